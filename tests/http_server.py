"""A real `mlready serve` app on 127.0.0.1 (uvicorn in a thread), and a small HTTP client."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class Running:
    """uvicorn serving the app of one Service on a free port, until ``stop``."""

    def __init__(self, project: Path, model: str | None = None, wait_ready: bool = True) -> None:
        import uvicorn

        from mlready.http import Service, create_app
        from mlready.spec import load_spec

        self.folder = project / "served"
        self.folder.mkdir(exist_ok=True)
        self.service = Service(load_spec(project), model=model, folder=self.folder)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(self.service), log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while get(self.url + "/ready")[0] != 200:
            assert time.monotonic() < deadline, get(self.url + "/ready")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


def request(
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, Any, bytes]:
    """(status, headers, body) of one HTTP request; 4xx and 5xx are answers, not errors."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def get(url: str) -> tuple[int, Any]:
    status, _, body = request(url)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def post_json(url: str, payload: Any, query: str = "") -> tuple[int, Any, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, headers, raw = request(
        url + "/predict" + query, body, {"Content-Type": "application/json"}, "POST"
    )
    return status, json.loads(raw), headers
