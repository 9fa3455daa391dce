"""`mlready serve` against `mlflow models serve`: the same model, the same requests, server and load
generator on 127.0.0.1.

The model: bench_serve.py's linear pipeline (LogisticRegression on 20 numeric and 5 categorical
columns, 50,000 training rows), trained and registered once in benchmarks/data/work/serve_http/;
MLflow serves the same model.skops saved as an MLflow model (bench_serve.mlflow_model, in the
MLflow venv bench_serve.mlflow_venv builds: mlflow-skinny, this venv's scikit-learn, numpy,
pandas). Both servers run one worker process (their defaults), mlready with its answer cache off
(``serving.realtime.cache_rows: 0``: every row is scored, as MLflow scores it).

The requests: rows of bench_serve's scoring data (an id, n0..n19, c0..c4), each request its own
rows (single-row requests: one row each; 100-row requests: 100 consecutive rows), sent as
``{"records": [...]}`` to mlready's /predict and as ``{"dataframe_records": [...]}`` to MLflow's
/invocations. Every answer must be 200 and list as many predictions as rows sent.

The load generator: an asyncio HTTP/1.1 client in this process (one keep-alive connection per
client; each client sends its next request when the answer to the last has been read), at 1, 8
and 64 concurrent clients. Each case is bounded: at most --requests requests or --seconds seconds,
after 20 warm-up requests. The two servers run side by side and the cases are interleaved in
rounds (mlready then MLflow, MLflow then mlready in the next round), so the machine's load falls
on both alike; the machine's load average is recorded with every case.

Reported per server and case: requests/s and rows/s (requests answered / seconds, over all rounds),
p50 and p99 latency (over every request of every round) and the server's peak memory (the largest
VmHWM of its processes, at the end). Targets (issue 21): mlready >= 2x MLflow's throughput and a
lower p99 at every concurrency; p99 < 20 ms for a single row at 8 clients.

Results: benchmarks/results/serve_http.json and serve_http.md (git-ignored).
Usage: python benchmarks/bench_serve_http.py [--rounds 2] [--requests 1500] [--seconds 6]
       [--clients 1 8 64] [--skip-mlflow] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_serve as common

HERE = Path(__file__).resolve().parent
WORK = common.DATA / "work" / "serve_http"
RESULTS = HERE / "results"
ROWS = 20_000  # scoring rows the requests are cut from
SIZES = (1, 100)
WARMUP = 20
TARGET_RATIO = 2.0
TARGET_P99_MS = 20.0


# --------------------------------------------------------------------------------------------------
# the model and the servers
# --------------------------------------------------------------------------------------------------


def prepare_model() -> dict[str, Any]:
    """The linear project trained and registered once (reused while its model file exists)."""
    folder = WORK / "linear"
    stamp = folder / "bench.json"
    if stamp.exists():
        done = json.loads(stamp.read_text())
        if Path(done["model"]).exists():
            return {**done, "spec": Path(done["spec"]), "model": Path(done["model"])}
    made = common.train_and_register(folder, "linear")
    spec = Path(made["spec"])
    # every row scored (no answer cache), requests of up to 100 rows
    spec.write_text(spec.read_text() + "  realtime: {cache_rows: 0, max_rows: 1000}\n")
    record = {**made, "spec": str(spec), "model": str(made["model"])}
    stamp.write_text(json.dumps(record, default=str))
    return {**made, "spec": spec, "model": Path(made["model"])}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process (and its children) on 127.0.0.1."""

    def __init__(self, name: str, args: list[str], port: int, path: str, env: dict[str, str]):
        self.name = name
        self.port = port
        self.path = path
        self.log = (WORK / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )

    def wait(self, probe: bytes, seconds: float = 180) -> None:
        """Until the server answers ``probe`` (a full HTTP request) with 200."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log.name}")
            try:
                status, _ = asyncio.run(_once(self.port, probe))
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer within {seconds:.0f} s")

    def pids(self) -> list[int]:
        found = [self.process.pid]
        for pid in found:
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    found.extend(int(c) for c in children if int(c) not in found)
            except OSError:
                continue
        return found

    def peak_mb(self) -> float:
        """The largest peak resident memory (VmHWM) of the server's processes."""
        peak = 0.0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
            except OSError:
                continue
        return peak

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------------------------------
# the load generator
# --------------------------------------------------------------------------------------------------


def http_request(port: int, path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def _once(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await _read(reader)
    finally:
        writer.close()


async def _load(
    port: int, requests: list[bytes], rows: int, clients: int, limit: int, seconds: float
) -> dict[str, Any]:
    """``clients`` connections sending ``requests`` in turn until ``limit`` answers or
    ``seconds``; every answer must be 200 with ``rows`` predictions."""
    latencies: list[float] = []
    failures: list[str] = []
    position = 0
    stop_at = 0.0

    def take() -> bytes | None:
        nonlocal position
        if position >= limit + WARMUP or (stop_at and time.perf_counter() > stop_at):
            return None
        request = requests[position % len(requests)]
        position += 1
        return request

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                request = take()
                if request is None:
                    return
                warm = position <= WARMUP
                start = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status, body = await _read(reader)
                elapsed = time.perf_counter() - start
                if status != 200 or _answered(body) != rows:
                    failures.append(f"{status}: {body[:200]!r}")
                elif not warm:
                    latencies.append(elapsed)
        finally:
            writer.close()

    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - start
    return {"latencies": latencies, "failures": failures, "wall_s": wall}


def _answered(body: bytes) -> int:
    doc = json.loads(body)
    return len(doc["predictions"])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> float:
    return os.getloadavg()[0]


# --------------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------------


def request_bodies(kind: str, port: int, path: str) -> dict[int, list[bytes]]:
    """Per request size, every request's bytes (the same rows for both servers)."""
    import pandas as pd

    frame = pd.read_csv(common.make_batch(ROWS), dtype={"id": str})
    records = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    key = "records" if kind == "mlready" else "dataframe_records"
    out = {}
    for size in SIZES:
        bodies = []
        for start in range(0, len(records) - size + 1, size):
            body = json.dumps({key: records[start : start + size]}).encode()
            bodies.append(http_request(port, path, body))
        out[size] = bodies
    return out


def agreement(servers: dict[str, Server], bodies: dict[str, dict[int, list[bytes]]]) -> float:
    """The largest difference between the two servers' probabilities on one 100-row request."""
    ours = json.loads(asyncio.run(_once(servers["mlready"].port, bodies["mlready"][100][0]))[1])
    theirs = json.loads(asyncio.run(_once(servers["mlflow"].port, bodies["mlflow"][100][0]))[1])
    a = [row["probability"] for row in ours["predictions"]]
    b = [row[1] if isinstance(row, list) else row for row in theirs["predictions"]]
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def start_servers(model: dict[str, Any], mlflow: bool) -> dict[str, Server]:
    servers: dict[str, Server] = {}
    saved = None
    if mlflow:  # before any server starts: a failure here leaves nothing running
        venv = common.mlflow_venv()
        common.WORK.mkdir(parents=True, exist_ok=True)
        saved = common.mlflow_model(venv, model["model"], WORK)
    port = free_port()
    servers["mlready"] = Server(
        "mlready",
        [str(common.MLREADY), "--spec", str(model["spec"].parent), "serve", "--port", str(port)],
        port,
        "/predict",
        {},
    )
    if saved is not None:
        port = free_port()
        args = [str(venv["mlflow"]), "models", "serve", "-m", str(saved), "--env-manager"]
        args += ["local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
        # it starts `uvicorn` by name: the venv's bin first on the PATH
        path = f"{Path(str(venv['mlflow'])).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**common.MLFLOW_ENV, "PATH": path}
        servers["mlflow"] = Server("mlflow", args, port, "/invocations", env)
    return servers


def run(args: argparse.Namespace) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    model = prepare_model()
    servers = start_servers(model, not args.skip_mlflow)
    try:
        bodies = {
            name: request_bodies(name, server.port, server.path) for name, server in servers.items()
        }
        for name, server in servers.items():
            server.wait(bodies[name][1][0])
        cases: dict[str, dict[str, Any]] = {}
        rounds = []
        for round_index in range(args.rounds):
            order = list(servers) if round_index % 2 == 0 else list(reversed(servers))
            loads = []
            for size in SIZES:
                for clients in args.clients:
                    for name in order:
                        server = servers[name]
                        before = load_average()
                        got = asyncio.run(
                            _load(
                                server.port,
                                bodies[name][size],
                                size,
                                clients,
                                args.requests,
                                args.seconds,
                            )
                        )
                        loads.append(before)
                        key = f"{name}|{size}|{clients}"
                        case = cases.setdefault(
                            key,
                            {
                                "server": name,
                                "rows": size,
                                "clients": clients,
                                "latencies": [],
                                "wall_s": 0.0,
                                "failures": [],
                                "load": [],
                            },
                        )
                        case["latencies"] += got["latencies"]
                        case["wall_s"] += got["wall_s"]
                        case["failures"] += got["failures"][:5]
                        case["load"].append(round(before, 2))
                        print(
                            f"round {round_index + 1} {name:8} rows={size:<3} clients={clients:<2} "
                            f"{len(got['latencies']) / got['wall_s']:8.1f} req/s "
                            f"p99 {1000 * (percentile(got['latencies'], 0.99) or 0):7.1f} ms "
                            f"(load {before:.1f})",
                            flush=True,
                        )
            rounds.append({"round": round_index + 1, "load": loads})
        diff = agreement(servers, bodies) if "mlflow" in servers else None
        peaks = {name: round(server.peak_mb(), 1) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    out = []
    for case in cases.values():
        latencies = case.pop("latencies")
        # answered requests over the time spent (warm-up requests are not counted)
        per_s = len(latencies) / case["wall_s"] if case["wall_s"] else None
        out.append(
            {
                **case,
                "requests": len(latencies),
                "requests_per_s": per_s,
                "rows_per_s": per_s * case["rows"] if per_s else None,
                "p50_ms": 1000 * (percentile(latencies, 0.5) or 0),
                "p99_ms": 1000 * (percentile(latencies, 0.99) or 0),
                "peak_memory_mb": peaks[case["server"]],
            }
        )
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "options": {
            "rounds": args.rounds,
            "requests": args.requests,
            "seconds": args.seconds,
            "clients": args.clients,
        },
        "train": {k: model.get(k) for k in ("train_s", "register_s", "cv_roc_auc")},
        "max_probability_difference": diff,
        "cases": out,
        "rounds": rounds,
    }


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per request size and concurrency: mlready / MLflow throughput and p99, against targets."""
    by = {(c["server"], c["rows"], c["clients"]): c for c in result["cases"]}
    rows = []
    for (server, size, clients), ours in by.items():
        if server != "mlready":
            continue
        theirs = by.get(("mlflow", size, clients))
        ratio = (
            ours["requests_per_s"] / theirs["requests_per_s"]
            if theirs and theirs["requests_per_s"]
            else None
        )
        rows.append(
            {
                "rows": size,
                "clients": clients,
                "throughput_ratio": ratio,
                "ratio_met": ratio is not None and ratio >= TARGET_RATIO,
                "p99_lower": theirs is not None and ours["p99_ms"] < theirs["p99_ms"],
                "p99_ms": ours["p99_ms"],
                "p99_target_met": (
                    ours["p99_ms"] < TARGET_P99_MS if (size, clients) == (1, 8) else None
                ),
            }
        )
    return rows


def table(result: dict[str, Any]) -> str:
    lines = [
        "| server | rows/request | clients | requests/s | rows/s | p50 ms | p99 ms | peak MB |"
        " load (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in sorted(result["cases"], key=lambda c: (c["rows"], c["clients"], c["server"])):
        lines.append(
            f"| {c['server']} | {c['rows']} | {c['clients']} | {c['requests_per_s']:,.1f} | "
            f"{c['rows_per_s']:,.0f} | {c['p50_ms']:.1f} | {c['p99_ms']:.1f} | "
            f"{c['peak_memory_mb']:.0f} | {', '.join(str(x) for x in c['load'])} |"
        )
    lines += ["", "| rows/request | clients | mlready / MLflow req/s | p99 lower | p99 < 20 ms |"]
    lines.append("|---:|---:|---:|---|---|")
    for v in result["verdicts"]:
        ratio = "-" if v["throughput_ratio"] is None else f"{v['throughput_ratio']:.2f}x"
        ratio += " (met)" if v["ratio_met"] else " (not met)"
        target = (
            "" if v["p99_target_met"] is None else ("met" if v["p99_target_met"] else "not met")
        )
        lines.append(
            f"| {v['rows']} | {v['clients']} | {ratio} | {'yes' if v['p99_lower'] else 'no'} | "
            f"{target} |"
        )
    if result["max_probability_difference"] is not None:
        lines.append(
            f"\nLargest difference between the servers' probabilities (100 rows): "
            f"{result['max_probability_difference']:.3g}"
        )
    return "\n".join(lines)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1500, help="per case and round")
    parser.add_argument("--seconds", type=float, default=6.0, help="per case and round")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 round of 100 requests or 2 s a case"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.requests, args.seconds = 1, 100, 2.0
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; the result with its verdicts."""
    result = run(args)
    result["verdicts"] = verdicts(result)
    return result


def main() -> None:
    result = measure(options())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve_http.json").write_text(json.dumps(result, indent=2, default=str))
    text = table(result)
    (RESULTS / "serve_http.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
