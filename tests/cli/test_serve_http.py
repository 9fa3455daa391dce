"""`mlready serve` as a process: SIGTERM drains and writes the online profile, which check-drift
judges as it judges serve-batch's profile of the same rows; a bad start exits with its code."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.http_server import get, request
from tests.serving_data import make_batch, trained_project

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.slow  # servers in processes of their own


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_project(tmp_path_factory.mktemp("serve-http"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(project: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "mlready", "--spec", str(project), "serve"]
    return subprocess.Popen(
        [*command, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _drift(project: Path, *args: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlready",
            "--spec",
            str(project),
            "check-drift",
            "--format",
            "json",
            *list(args),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def _verdicts(result: dict) -> list[tuple]:
    return [
        (f["column"], f["test"], f["drifted"], round(f["statistic"] or 0.0, 12))
        for f in result["features"]
    ] + [(p["column"], p["test"], p["drifted"]) for p in result["predictions"]]


def test_sigterm_drains_and_check_drift_reads_the_online_profile(project: Path) -> None:
    batch = make_batch(600, seed=9)
    batch["tenure"] = np.clip(batch["tenure"] + 25, 0, 100)  # drifted, within the contract
    path = project / "august.csv"
    batch.to_csv(path, index=False)
    served = subprocess.run(
        [sys.executable, "-m", "mlready", "--spec", str(project), "serve-batch", "-i", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert served.returncode == 0, served.stderr
    batch_verdicts = _verdicts(_drift(project))

    port = _free_port()
    server = _start(project, port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if get(url + "/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.1)
        body = path.read_bytes()
        half = body.split(b"\n")
        first = b"\n".join(half[:301]) + b"\n"  # header + 300 rows
        second = b"\n".join(half[:1] + half[301:])
        status, _, _ = request(url + "/predict", first, {"Content-Type": "text/csv"}, "POST")
        assert status == 200
        # a request in flight at SIGTERM: its headers and half its body sent before the signal,
        # the rest after; the server must wait for it and answer it
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.putrequest("POST", "/predict")
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Content-Length", str(len(second)))
        conn.endheaders()
        conn.send(second[: len(second) // 2])
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        conn.send(second[len(second) // 2 :])
        response = conn.getresponse()
        answers = [response.status]
        late = json.loads(response.read())
        assert len(late["predictions"]) == 300
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, stderr
    assert answers == [200]  # the request in flight at SIGTERM was answered
    assert "Traceback" not in stderr
    runs = [
        json.loads(line)
        for line in (project / ".mlready" / "runs.jsonl").read_text().splitlines()
        if '"serve"' in line
    ]
    record = next(r for r in runs if r.get("step") == "serve")
    summary = record["summary"]
    assert summary["rows_scored"] == 600
    assert summary["availability"] == 1.0
    assert summary["latency_ms_last_window"]["p99"] > 0
    profile = project / ".mlready" / "runs" / "serve" / record["run_id"] / "batch_profile.json"
    assert json.loads(profile.read_text())["batch"]["rows_scored"] == 600
    online_verdicts = _verdicts(_drift(project, "--batch", record["run_id"]))
    assert online_verdicts == batch_verdicts
    assert any(drifted for _, _, drifted, *_ in batch_verdicts)


def _wait_ready(server: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, server.communicate()[1]
        try:
            if get(url + "/ready")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "not ready"
        time.sleep(0.1)


def test_workers_each_serve_and_the_run_adds_them_up(project: Path) -> None:
    path = project / "small.csv"
    make_batch(50, seed=2).to_csv(path, index=False)
    port = _free_port()
    server = _start(project, port, "--workers", "2")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, url)
        for _ in range(6):
            status, headers, _ = request(
                url + "/predict", path.read_bytes(), {"Content-Type": "text/csv"}, "POST"
            )
            assert status == 200
            assert headers["X-Mlready-Model-Version"] == "1"
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, stderr
    records = [
        json.loads(line)
        for line in (project / ".mlready" / "runs.jsonl").read_text().splitlines()
        if '"serve"' in line
    ]
    record = [r for r in records if r.get("step") == "serve"][-1]
    assert record["summary"]["workers"] == 2
    assert record["summary"]["rows_scored"] == 300
    folder = project / ".mlready" / "runs" / "serve" / record["run_id"]
    assert sorted(p.name.split(".")[0] for p in folder.glob("serve_summary.*.json")) == [
        "serve_summary",
        "serve_summary",
    ]


def test_a_wrong_model_or_a_taken_port_exits_with_its_code(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    wrong = subprocess.run(
        [sys.executable, "-m", "mlready", "--spec", str(project), "serve", "-m", "toy:9"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert wrong.returncode == 4
    assert "toy:9" in wrong.stderr or "version 9" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "mlready", "--spec", str(project), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert busy.returncode == 2, busy.stderr
    assert f"127.0.0.1:{port}" in busy.stderr
    assert "--port" in busy.stderr
