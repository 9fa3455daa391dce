"""`mlready serve` in a thread of this process, for a notebook or a script: the same app, model
checks, metrics, online profile and run record as the command, with a handle to stop it.

The run is recorded when the server stops (``stop()``, leaving a ``with`` block, or the process
exiting), with the summary the command records: availability, latency, rows, the canary.
"""

from __future__ import annotations

import atexit
import json
import socket
import sys
import threading
import time
from typing import Any

from mlready.errors import CheckFailed, DataError, UsageError
from mlready.spec import LoadedSpec

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """A running server: ``url``, ``run_id``, ``run_dir``, ``ready``, ``predict(records)``,
    ``stop()``; a context manager (``with project.serve() as server: ...``)."""

    def __init__(
        self,
        loaded: LoadedSpec,
        *,
        model: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from mlready.http.server import _uvicorn, check_port
        from mlready.registry import open_registry, parse_ref

        uvicorn = _uvicorn()
        # a wrong reference fails now, not as a server that is never ready
        open_registry(loaded).resolve(parse_ref(model or "", loaded.spec.model_name))
        if port:
            check_port(host, port)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): pass another port"
            ) from None
        bound = sock.getsockname()[1]
        self.host = host
        self.port = int(bound)
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"
        from mlready.http.app import Service, create_app
        from mlready.runs import start_run

        self._opened = start_run(loaded.spec.project.artifacts_dir, "serve", loaded)
        self._run = self._opened.__enter__()
        self.run_id: str = self._run.run_id
        self.run_dir = self._run.dir
        try:
            self.service = Service(
                loaded,
                model=model,
                run_id=self.run_id,
                folder=self.run_dir,
                logger=self._run.logger,
            )
            config = uvicorn.Config(
                create_app(self.service),
                log_config=None,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=30,
            )
            self._server = uvicorn.Server(config)
        except BaseException:
            sock.close()
            self._opened.__exit__(*sys.exc_info())  # recorded as an error run, then raised
            raise
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"mlready-serve-{self.port}",
            daemon=True,
        )
        self._lock = threading.Lock()
        self.summary: dict[str, Any] | None = None
        self._thread.start()
        atexit.register(self.stop)

    # -------------------------------------------------------------------------------- state

    @property
    def ready(self) -> bool:
        """The model is loaded and its canary passed (GET /ready answers 200)."""
        return self.service.ready and self._thread.is_alive()

    @property
    def model(self) -> str | None:
        """The version serving now (``name:version``)."""
        current = self.service.slot.current
        return current.label if current is not None else None

    def wait_ready(self, seconds: float = 120) -> BackgroundServer:
        """Wait until the model serves; CheckFailed when it cannot load, UsageError when the
        server stopped or ``seconds`` passed."""
        deadline = time.monotonic() + seconds
        while not self.ready:
            if self.service.slot.error:
                raise CheckFailed(f"the model does not serve: {self.service.slot.error}")
            if self.summary is not None or (self._server.started and not self._thread.is_alive()):
                raise UsageError(f"the server at {self.url} has stopped")
            if time.monotonic() > deadline:
                raise UsageError(f"the server at {self.url} was not ready within {seconds:g} s")
            time.sleep(0.02)
        return self

    # ------------------------------------------------------------------------------ scoring

    def predict(
        self, records: list[dict[str, Any]], *, on_invalid: str | None = None
    ) -> dict[str, Any]:
        """POST the records to /predict and return its JSON answer (``predictions``,
        ``rejected``, ``model``). A 422 (invalid rows) raises CheckFailed, another refusal
        DataError, each with the server's message."""
        import urllib.error
        import urllib.request

        query = f"?on_invalid={on_invalid}" if on_invalid else ""
        body = json.dumps({"records": records}, allow_nan=False).encode()
        request = urllib.request.Request(
            f"{self.url}/predict{query}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            try:
                refusal = json.loads(exc.read())
            except ValueError:
                refusal = {"message": str(exc)}
            message = f"{exc.code} {refusal.get('error', '')}: {refusal.get('message', '')}"
            if exc.code == 422 and refusal.get("error") == "invalid_rows":
                raise CheckFailed(message) from None
            raise DataError(message) from None

    # --------------------------------------------------------------------------------- stop

    def stop(self) -> dict[str, Any]:
        """Stop gracefully (in-flight requests finish, the online profile is written), record
        the run, and return its summary (what the command records). Stopping twice is fine."""
        with self._lock:
            if self.summary is not None:
                return self.summary
            self._server.should_exit = True
            self._thread.join(timeout=60)
            summary = {
                **self.service.summary(),
                "workers": 1,
                "host": self.host,
                "port": self.port,
                "stopped_by": "stop()",
            }
            self._run.summary.update(summary)
            self._opened.__exit__(None, None, None)
            self.summary = summary
            atexit.unregister(self.stop)
            return summary

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self.summary is not None else ("ready" if self.ready else "loading")
        return f"<mlready server {self.url} ({state}, run {self.run_id})>"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<code>{escape(repr(self))}</code>"
