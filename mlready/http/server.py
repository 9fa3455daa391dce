"""Run `mlready serve`: uvicorn on the app, in this process or in N worker processes, until
SIGTERM or Ctrl-C (in-flight requests finish, the online profile is written)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlready.errors import UsageError
from mlready.spec import LoadedSpec

__all__ = ["check_port", "serve"]

#: Seconds in-flight requests get to finish after SIGTERM.
GRACE_SECONDS = 30


def _uvicorn() -> Any:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        from mlready import DISTRIBUTION

        raise UsageError(
            f"mlready serve needs Starlette and uvicorn: pip install '{DISTRIBUTION}[serve]'"
        ) from None
    return uvicorn


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[str]]:
    """SIGINT and SIGTERM stop the server gracefully and end the command normally (exit 0, the
    run recorded): uvicorn drains, then raises the signal again for the handler it found, which
    is this one (it notes the signal's name) instead of Python's default (an interrupted exit)."""
    import signal
    import threading

    seen: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def note(number: int, frame: Any) -> None:
        seen.append(signal.Signals(number).name)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def check_port(host: str, port: int) -> None:
    """UsageError when ``host:port`` cannot be listened on (taken, or not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): pass another --port, "
                "or stop what listens there"
            ) from None


def serve(
    loaded: LoadedSpec,
    *,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    run_dir: Path | None = None,
    run_id: str | None = None,
    logger: logging.Logger | None = None,
) -> dict[str, Any]:
    """Serve until stopped; return what the run log keeps (availability, latency, rows)."""
    from mlready.registry import open_registry, parse_ref

    uvicorn = _uvicorn()
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    # a wrong reference fails now (exit 4), not as a server that is never ready
    open_registry(loaded).resolve(parse_ref(model or "", loaded.spec.model_name))
    check_port(host, port)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,  # uvicorn's loggers go where mlready's go
        "access_log": False,  # /metrics counts requests; refused ones are logged once each
        "timeout_graceful_shutdown": GRACE_SECONDS,
        "lifespan": "on",
    }
    if workers == 1:
        from mlready.http.app import Service, create_app

        service = Service(loaded, model=model, run_id=run_id, folder=run_dir, logger=logger)
        server = uvicorn.Server(uvicorn.Config(create_app(service), **options))
        with _stop_signals() as stopped_by:
            server.run()
        summary = {**service.summary(), "workers": 1, "host": host, "port": port}
        return {**summary, "stopped_by": stopped_by[0] if stopped_by else None}
    env = {
        "MLREADY_SERVE_SPEC": str(loaded.path),
        "MLREADY_SERVE_MODEL": model or "",
        "MLREADY_SERVE_RUN_ID": run_id or "",
        "MLREADY_SERVE_FOLDER": str(run_dir or ""),
    }
    os.environ.update(env)
    uvicorn.run("mlready.http.app:from_environment", factory=True, workers=workers, **options)
    return {**_workers_summary(run_dir), "workers": workers, "host": host, "port": port}


def _workers_summary(folder: Path | None) -> dict[str, Any]:
    """The workers' summaries added up (each worker counts its own requests)."""
    if folder is None:
        return {}
    parts = []
    for path in sorted(folder.glob("serve_summary.*.json")):
        try:
            parts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    total: dict[str, Any] = {"worker_summaries": len(parts)}
    for key in (
        "requests",
        "predict_requests",
        "server_errors",
        "rows_in",
        "rows_scored",
        "rows_rejected",
    ):
        total[key] = sum(int(p.get(key) or 0) for p in parts)
    predict = total["predict_requests"]
    total["availability"] = None if not predict else round(1 - total["server_errors"] / predict, 6)
    total["model"] = next((p["model"] for p in parts if p.get("model")), None)
    # each worker judged its own windows; the slowest worker's p99 speaks for the server
    canaries = [p.get("canary") for p in parts]
    total["canary"] = (
        None if all(c is None for c in canaries) else all(c is not False for c in canaries)
    )
    budgets = [(p.get("sla") or {}) for p in parts]
    windows = sum(int(b.get("windows") or 0) for b in budgets)
    breaches = sum(int(b.get("breaches") or 0) for b in budgets)
    total["sla"] = {
        "p99_ms": next((b.get("p99_ms") for b in budgets if b.get("p99_ms") is not None), None),
        "windows": windows,
        "breaches": breaches,
        "met": None if not windows else breaches == 0,
    }
    p99s = [(p.get("latency_ms") or {}).get("p99") for p in parts]
    p50s = [(p.get("latency_ms") or {}).get("p50") for p in parts]
    total["latency_ms"] = {
        "p50": max((v for v in p50s if v is not None), default=None),
        "p99": max((v for v in p99s if v is not None), default=None),
    }
    return total
