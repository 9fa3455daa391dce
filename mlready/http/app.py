"""The ASGI application of `mlready serve` (Starlette) and the service behind it: the model slot,
the answer cache, the metrics, the online profile and the SLA, with one watcher thread that polls
the registry, judges latency windows and writes the profile."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mlready.http.cache import AnswerCache
from mlready.http.fast import FAST_ROWS
from mlready.http.metrics import Metrics
from mlready.http.model import ModelSlot, ServedModel
from mlready.http.monitor import LatencySla, OnlineProfile
from mlready.http.scoring import (
    RequestError,
    Scored,
    csv_numeric,
    frame_of,
    parse_csv,
    parse_json,
    score,
)
from mlready.spec import LoadedSpec

__all__ = ["PROFILE_NAME", "Service", "create_app", "from_environment"]

#: The online profile's file name in the serve run's folder (check-drift --batch RUN_ID).
PROFILE_NAME = "batch_profile.json"
JSON_TYPES = ("application/json",)
#: A body over the limit but under this many times it is read (and dropped) before the 413, so
#: the client reads the answer instead of a reset connection; a larger one is refused at once.
DRAIN_FACTOR = 4
CSV_TYPES = ("text/csv", "application/csv")
#: JSON bodies up to this size, on a compiled pipeline, are scored on the event loop (the
#: parse of ~8 KB and the scoring of its few rows take about as long as a hop to a thread).
INLINE_BYTES = 8 * 1024


def _one_openmp_thread() -> None:
    """OpenMP's thread count is per thread: each scoring thread runs one (see serve-batch)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="openmp")


def _one_thread_each() -> Any:
    """One BLAS thread in this process (its pool is the process's: a request's rows are too few
    to share out, and N workers already use the cores) and one OpenMP thread in this thread.
    Returns the limiter (``restore_original_limits()`` when the server stops: a notebook's own
    BLAS threads come back)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


class Service:
    """Everything one server process holds between requests."""

    def __init__(
        self,
        loaded: LoadedSpec,
        *,
        model: str | None = None,
        run_id: str | None = None,
        folder: Path | None = None,
        logger: logging.Logger | None = None,
        worker_suffix: str = "",
        load_first: bool = False,
    ) -> None:
        from mlready.runs import new_run_id
        from mlready.spec.models import ServingSection

        self.loaded = loaded
        self.serving = loaded.spec.serving or ServingSection()
        self.realtime = self.serving.realtime
        self.run_id = run_id or new_run_id()
        self.folder = folder
        self.suffix = worker_suffix
        #: load the model before taking requests (a worker of several: the others answer while
        #: it loads), instead of answering /health at once and /ready when loaded
        self.load_first = load_first
        self.log = logger or logging.getLogger("mlready.http")
        self.metrics = Metrics(self.realtime.window_seconds)
        cache_on = self.serving.cache.enabled and self.realtime.cache_rows > 0
        self.cache = (
            AnswerCache(self.realtime.cache_rows, self.serving.cache.ttl.total_seconds())
            if cache_on
            else None
        )
        self.profile: OnlineProfile | None = None
        self.sla = LatencySla(loaded, self.run_id, self.log)
        self.slot = ModelSlot(loaded, model, logger=self.log, on_swap=self._swapped)
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, os.cpu_count() or 1),
            thread_name_prefix="mlready-predict",
            initializer=_one_openmp_thread,
        )
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._profile_lock = threading.Lock()

    # ------------------------------------------------------------------------- lifecycle

    @property
    def ready(self) -> bool:
        return self.slot.current is not None

    def start(self) -> None:
        """Load the model and watch the registry, latency and profile in a thread."""
        if self.load_first:
            self.slot.load()
        self._watcher = threading.Thread(target=self._watch, name="mlready-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Stop watching; write the profile and the summary (in-flight requests are done)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
        self.pool.shutdown(wait=True)
        self.flush()
        self._write_summary()
        self.log.info("server stopped: %s", json.dumps(self.metrics.summary()))

    def _watch(self) -> None:
        if self.slot.current is None:
            self.slot.load()
        now = time.monotonic()
        next_poll = now + self.realtime.reload_seconds
        next_window = now + self.realtime.window_seconds
        next_flush = now + self.realtime.profile_seconds
        while not self._stop.wait(0.05):
            now = time.monotonic()
            try:
                if now >= next_poll:
                    next_poll = now + self.realtime.reload_seconds
                    if self.slot.current is None:
                        self.slot.load()
                    else:
                        self.slot.poll()
                if now >= next_window:
                    next_window = now + self.realtime.window_seconds
                    self._judge_window()
                if now >= next_flush:
                    next_flush = now + self.realtime.profile_seconds
                    self.flush()
            except Exception as exc:  # the watcher must outlive any one failure
                self.log.error("watcher: %s: %s", type(exc).__name__, exc)

    def _judge_window(self) -> None:
        current = self.slot.current
        verdict = self.sla.judge(self.metrics.window(), current.label if current else "no model")
        if verdict is not None:
            with self.metrics._lock:
                self.metrics.sla_windows += 1
                if not verdict["met"]:
                    self.metrics.sla_breaches += 1

    def _swapped(self, old: ServedModel | None, new: ServedModel) -> None:
        """Before the new model serves: its own profile and an empty cache."""
        if old is not None:
            self.flush()
            # that version's copy, kept when the new version's profile replaces the file
            self.flush(self.profile_path(old), force=True)
            with self.metrics._lock:
                self.metrics.swaps += 1
        with self._profile_lock:
            self.profile = OnlineProfile(self.loaded, new, self.run_id)
        if self.cache is not None:
            self.cache.clear(new.sha256)

    def profile_path(self, served: ServedModel | None = None) -> Path | None:
        """Where the online profile is written: ``batch_profile.json`` (``.<pid>.json`` for a
        worker of several); with ``served``, that version's copy kept after a swap
        (``batch_profile.<name>-v<version>.json``)."""
        if self.folder is None:
            return None
        parts = [PROFILE_NAME.removesuffix(".json")]
        if served is not None:
            parts.append(f"{served.info.name}-v{served.info.version}")
        if self.suffix:
            parts.append(self.suffix)
        return self.folder / (".".join(parts) + ".json")

    def flush(self, path: Path | None = None, *, force: bool = False) -> None:
        """Write the online profile (the batch-profile format) when rows were counted since it
        was last written (or at all, with ``force``)."""
        path = path or self.profile_path()
        with self._profile_lock:
            profile = self.profile
        if path is None or profile is None:
            return
        try:
            if profile.write(path, f"mlready serve (run {self.run_id})", force=force):
                self.log.info("online profile written: %s", path)
        except OSError as exc:
            self.log.error("online profile not written to %s: %s", path, exc)

    def _write_summary(self) -> None:
        if self.folder is None:
            return
        from mlready.io import atomic_write_text

        name = "serve_summary.json" if not self.suffix else f"serve_summary.{self.suffix}.json"
        summary = self.summary()
        with contextlib.suppress(OSError):
            atomic_write_text(self.folder / name, json.dumps(summary, indent=2, default=str))

    def summary(self) -> dict[str, Any]:
        """What the run log keeps of the server: availability, latency, rows, model, alerts."""
        current = self.slot.current
        out = self.metrics.summary()
        out["model"] = current.info.describe() if current else None
        # the readiness report's infra-6: every version served passed its canary; a server
        # whose model failed it never served (None: no model loaded at all)
        out["canary"] = True if current else (False if self.slot.error else None)
        # the readiness report's monitor-6: the budget, the windows judged against it, breaches
        windows = out["sla_windows"]
        out["sla"] = {
            "p99_ms": self.realtime.p99_ms,
            "windows": windows,
            "breaches": out["sla_breaches"],
            "met": None if not windows else out["sla_breaches"] == 0,
        }
        out["alerts"] = [a["rule"] for a in self.sla.alerts]
        path = self.profile_path()
        out["files"] = {"profile": str(path)} if path is not None and path.is_file() else {}
        return out

    # -------------------------------------------------------------------------- scoring

    def score_body(
        self, served: ServedModel, body: bytes, kind: str, on_invalid: str, fast: bool = True
    ) -> Scored:
        """Parse and score one request body: a small JSON one on the fast path when it can take
        it (mlready.http.fast), any other as serve-batch scores a chunk."""
        if kind == "csv":
            frame = parse_csv(body, csv_numeric(self.loaded, served, body))
        else:
            records = parse_json(body)
            self._check_rows(len(records))
            if fast and served.fast is not None and len(records) <= FAST_ROWS:
                quick = served.fast.score(
                    records, on_invalid=on_invalid, cache=self.cache, run_id=self.run_id
                )
                if quick is not None:
                    self._count(served, quick)
                    return quick
            frame = frame_of(records)
        self._check_rows(len(frame))
        scored = score(
            self.loaded,
            served,
            frame,
            on_invalid=on_invalid,
            cache=self.cache,
            run_id=self.run_id,
        )
        self._count(served, scored)
        return scored

    def _check_rows(self, rows: int) -> None:
        if rows > self.realtime.max_rows:
            raise RequestError(
                413,
                "too_many_rows",
                f"{rows:,} rows in one request, over serving.realtime.max_rows "
                f"({self.realtime.max_rows:,}): split the batch, or use mlready serve-batch",
            )

    def _count(self, served: ServedModel, scored: Scored) -> None:
        """Count the request into the online profile of the version that scored it."""
        with self._profile_lock:
            profile = self.profile
        if profile is not None and profile.served is served:
            profile.add(scored)


# ------------------------------------------------------------------------------- the app


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    body = json.dumps(payload, default=str, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def create_app(service: Service) -> Any:
    """The Starlette application serving ``service``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    log = service.log
    realtime = service.realtime
    max_bytes = int(realtime.max_body_mb * 1024 * 1024)

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    async def ready(request: Request) -> Response:
        current = service.slot.current
        if current is None:
            return _json(
                {"ready": False, "reason": service.slot.error or "the model is loading"}, 503
            )
        return _json({"ready": True, "model": current.label, "canary": current.canary})

    async def model(request: Request) -> Response:
        current = service.slot.current
        if current is None:
            return _json(
                {"error": "not_ready", "message": service.slot.error or "the model is loading"},
                503,
            )
        out = current.describe()
        if service.slot.error:
            out["reload_error"] = service.slot.error
        return _json(out)

    async def metrics(request: Request) -> Response:
        text = service.metrics.render(service.slot.current, service.ready)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        too_large = RequestError(
            413,
            "too_large",
            f"the body is over serving.realtime.max_body_mb ({realtime.max_body_mb:g} MB): "
            "split the batch, or use mlready serve-batch",
        )
        size = 0
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise RequestError(400, "bad_length", "Content-Length is not a number") from None
        if size > DRAIN_FACTOR * max_bytes:
            raise too_large  # the connection is closed: not worth reading
        parts: list[bytes] = []
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                parts.clear()
                if received > DRAIN_FACTOR * max_bytes:
                    raise too_large
                continue  # read to the end (discarded), so the client gets the answer cleanly
            parts.append(chunk)
        if received > max_bytes:
            raise too_large
        return b"".join(parts)

    async def predict(request: Request) -> Response:
        served = service.slot.current  # this request is scored by this version, whole
        if served is None:
            raise RequestError(
                503, "not_ready", service.slot.error or "the model is loading: retry shortly"
            )
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media in JSON_TYPES:
            kind = "json"
        elif media in CSV_TYPES:
            kind = "csv"
        else:
            raise RequestError(
                415,
                "content_type",
                f"Content-Type {media or '(none)'} is not accepted: send application/json "
                "records or text/csv",
            )
        on_invalid = request.query_params.get("on_invalid", service.serving.on_invalid)
        if on_invalid not in ("stop", "quarantine"):
            raise RequestError(
                400, "bad_parameter", f"on_invalid must be stop or quarantine, got {on_invalid!r}"
            )
        body = await read_body(request)
        as_csv = "text/csv" in request.headers.get("accept", "")
        fast = served.fast
        if (
            kind == "json"
            and not as_csv
            and fast is not None
            and fast.compiled is not None
            and len(body) <= INLINE_BYTES
        ):
            # a small JSON body on the compiled pipeline takes well under a millisecond: scored
            # here, without a hop to a thread and back (larger ones would hold up the loop)
            scored = service.score_body(served, body, kind, on_invalid)
        else:
            loop = asyncio.get_running_loop()
            scored = await loop.run_in_executor(
                service.pool, service.score_body, served, body, kind, on_invalid, not as_csv
            )
        service.metrics.scored(
            scored.rows_in,
            scored.rows_out,
            _reject_counts(scored.rejected),
            scored.hits,
            scored.misses,
        )
        headers = {
            "X-Mlready-Model": served.info.name,
            "X-Mlready-Model-Version": str(served.info.version),
            "X-Mlready-Model-Sha256": served.sha256,
            "X-Mlready-Rows-Rejected": str(len(scored.rejected)),
        }
        if as_csv:
            import io

            import pyarrow.csv as pcsv

            buffer = io.BytesIO()
            pcsv.write_csv(scored.table, buffer)
            return Response(buffer.getvalue(), media_type="text/csv", headers=headers)
        return _json(
            {
                "model": {
                    "name": served.info.name,
                    "version": served.info.version,
                    "sha256": served.sha256,
                    "run_id": served.info.run_id,
                },
                "predictions": scored.records(),
                "rejected": scored.rejected,
                "warnings": scored.warnings,
            },
            headers=headers,
        )

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        log.warning(
            "%s %s -> %s %s: %s",
            request.method,
            request.url.path,
            exc.status,
            exc.reason,
            exc.message,
        )
        service.metrics.error(exc.reason)
        rejected = exc.details.get("rejected")
        if rejected:
            rows = int(exc.details.get("rows") or len(rejected))
            service.metrics.scored(rows, 0, _reject_counts(rejected), 0, 0)
        return _json(exc.to_dict(), exc.status)

    async def failed(request: Request, exc: Exception) -> Response:
        log.error("%s %s -> 500: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        service.metrics.error("internal")
        return _json(
            {
                "error": "internal",
                "message": f"{type(exc).__name__}: {exc} (see the server log)",
            },
            500,
        )

    class Timing:
        """Counts every answered request by path and status, and /predict's latency."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            start = time.perf_counter()
            status = {"code": 500}

            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                path = scope["path"] if scope["path"] in PATHS else "other"
                service.metrics.request(
                    scope["method"], path, status["code"], time.perf_counter() - start
                )

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        limits = _one_thread_each()  # the loop's thread scores small requests itself
        service.start()
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, service.stop)
            limits.restore_original_limits()

    from starlette.middleware import Middleware

    routes = [
        Route("/predict", predict, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/model", model, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={RequestError: refused, Exception: failed},
        middleware=[Middleware(Timing)],
        lifespan=lifespan,
    )


def _reject_counts(rejected: list[dict[str, Any]]) -> dict[str, int]:
    """Rejected rows by check (a row breaking two checks counts under both)."""
    counts: dict[str, int] = {}
    for entry in rejected:
        for reason in entry["reasons"]:
            counts[reason] = counts.get(reason, 0) + 1
    return counts


PATHS = {"/predict", "/health", "/ready", "/model", "/metrics"}


def from_environment() -> Any:
    """The app of one worker of `mlready serve --workers N` (uvicorn imports it by name): the
    spec, model and run folder come from MLREADY_SERVE_* variables the command sets."""
    from mlready.spec import load_spec

    loaded = load_spec(Path(os.environ["MLREADY_SERVE_SPEC"]))
    folder = os.environ.get("MLREADY_SERVE_FOLDER")
    pid = str(os.getpid())
    logger = logging.getLogger(f"mlready.http.worker.{pid}")
    if folder:
        # each worker's log beside the run's (the command's run.log is the parent process's)
        handler = logging.FileHandler(Path(folder) / f"run.{pid}.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    service = Service(
        loaded,
        model=os.environ.get("MLREADY_SERVE_MODEL") or None,
        run_id=os.environ.get("MLREADY_SERVE_RUN_ID") or None,
        folder=Path(folder) if folder else None,
        logger=logger,
        worker_suffix=pid,
        load_first=True,
    )
    return create_app(service)
