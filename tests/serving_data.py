"""Shared by the serve-batch and check-drift tests: a served toy project, batches to score, and
a real HTTP server for alerts (written, not shipped)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.training_data import toy_frame, write_project

SERVING = """\
expectations:
  unexpected_columns: warning
  columns:
    customer_id: {type: string, unique: true, regex: '^C\\d{5}$', max_null_fraction: 0}
    tenure: {type: number, min: 0, max: 100, max_null_fraction: 0}
    monthly_charges: {type: number, min: 0, max: 500}
    plan: {allowed_values: [basic, pro, max]}
serving:
  chunk_rows: 150
  on_invalid: quarantine
  cache: {enabled: true, ttl: 30d}
  sla: {output_period: 1d}
"""


def make_batch(rows: int = 1000, seed: int = 7) -> pd.DataFrame:
    frame = toy_frame(rows, seed=seed).drop(columns=["churn"])
    frame["customer_id"] = [f"C{i:05d}" for i in range(rows)]
    return frame


def dirty_batch(frame: pd.DataFrame, duplicate_of: int = 400) -> pd.DataFrame:
    """Plant one defect per serving check, each in its own row (one id twice: rows 60 and
    ``duplicate_of``)."""
    frame = frame.copy()
    frame["tenure"] = frame["tenure"].astype(object)
    frame.loc[10, "tenure"] = 999  # range
    frame.loc[20, "tenure"] = "lots"  # not a number
    frame.loc[30, "monthly_charges"] = -5.0  # range
    frame.loc[40, "plan"] = "platinum"  # not allowed
    frame.loc[50, "customer_id"] = "bad-id"  # regex
    frame.loc[60, "customer_id"] = frame.loc[duplicate_of, "customer_id"]  # duplicated
    frame.loc[70, "tenure"] = None  # missing
    return frame


#: The serving.realtime settings of the HTTP tests: quick reloads, a small cache and limits.
REALTIME = "  realtime: {reload_seconds: 0.2, cache_rows: 1000, max_rows: 2000, max_body_mb: 1}\n"


def realtime_project(folder: Path) -> Path:
    """``trained_project`` with the HTTP tests' serving.realtime settings."""
    folder = trained_project(folder)
    spec = folder / "mlready.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + REALTIME, encoding="utf-8")
    return folder


def project_copy(trained: Path, tmp_path: Path) -> Path:
    """A copy of a trained project for one test to change."""
    import shutil

    return Path(shutil.copytree(trained, tmp_path / "project"))


def trained_project(folder: Path, frame: pd.DataFrame | None = None) -> Path:
    """A toy project with the serving contract, trained and registered as production."""
    import pytest

    from mlready.cli.app import main

    folder = write_project(folder, frame=frame, extra=SERVING)
    for args in (["train", "--no-importance"], ["register", "--promote", "production"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--quiet", "--spec", str(folder), *args])
        assert exit_info.value.code == 0
    return folder


class Hook:
    """A real HTTP server on 127.0.0.1 that records POSTed JSON (or answers 500)."""

    def __init__(self, status: int = 200) -> None:
        import http.server
        import threading

        received: list[dict] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
