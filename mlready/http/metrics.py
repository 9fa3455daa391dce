"""What `mlready serve` counts, written in the Prometheus text format (version 0.0.4) by hand:
counters, one latency histogram, and gauges, under one lock."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict, deque
from typing import Any

__all__ = ["BUCKETS", "Metrics", "percentile"]

#: /predict latencies kept for the run's percentiles (a uniform sample beyond that).
SAMPLE_SIZE = 10_000
#: Upper bounds of the latency histogram, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: dict[str, str]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs.items()) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


class Metrics:
    """Request counts by path and status, /predict latency, rows, rejects, cache, model."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.rejects: dict[str, int] = defaultdict(int)
        self.buckets = [0] * len(BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.rows_in = 0
        self.rows_scored = 0
        self.cache_hits = 0
        self.cache_misses = 0
        self.swaps = 0
        self.sla_breaches = 0
        self.window_seconds = window_seconds
        #: (monotonic time, seconds) of recent /predict requests: the SLA's window
        self.recent: deque[tuple[float, float]] = deque()
        #: a uniform sample of every /predict latency of the run (its percentiles, run log)
        self.sample: list[float] = []
        self._seen = 0
        self._random = random.Random(0)
        #: SLA windows judged (each with enough requests), and how many met the budget
        self.sla_windows = 0

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one answered request (latency is kept for /predict)."""
        with self._lock:
            self.requests[(method, path, status)] += 1
            if path != "/predict":
                return
            self.latency_sum += seconds
            self.latency_count += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1
            self._seen += 1
            if len(self.sample) < SAMPLE_SIZE:
                self.sample.append(seconds)
            else:  # reservoir sampling: every request equally likely to be kept
                slot = self._random.randrange(self._seen)
                if slot < SAMPLE_SIZE:
                    self.sample[slot] = seconds
            now = time.monotonic()
            self.recent.append((now, seconds))
            while self.recent and self.recent[0][0] < now - self.window_seconds:
                self.recent.popleft()

    def error(self, reason: str) -> None:
        with self._lock:
            self.errors[reason] += 1

    def scored(
        self, rows_in: int, rows_scored: int, rejects: dict[str, int], hits: int, misses: int
    ) -> None:
        with self._lock:
            self.rows_in += rows_in
            self.rows_scored += rows_scored
            for reason, count in rejects.items():
                self.rejects[reason] += count
            self.cache_hits += hits
            self.cache_misses += misses

    def window(self) -> list[float]:
        """The /predict latencies of the current window, in seconds."""
        now = time.monotonic()
        with self._lock:
            return [s for t, s in self.recent if t >= now - self.window_seconds]

    def summary(self) -> dict[str, Any]:
        """Availability and latency for the run log: requests, server errors, percentiles."""
        with self._lock:
            total = sum(self.requests.values())
            predict = sum(n for (_, p, _), n in self.requests.items() if p == "/predict")
            # availability is that of /predict (a 503 of /ready while loading is its answer)
            failed = sum(
                n
                for (_, p, status), n in self.requests.items()
                if p == "/predict" and status >= 500
            )
            latencies = sorted(s for _, s in self.recent)
            every = sorted(self.sample)
        return {
            "requests": total,
            "predict_requests": predict,
            "server_errors": failed,
            "availability": None if not predict else round(1 - failed / predict, 6),
            "rows_in": self.rows_in,
            "rows_scored": self.rows_scored,
            "rows_rejected": sum(self.rejects.values()),
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "model_swaps": self.swaps,
            "sla_breaches": self.sla_breaches,
            "sla_windows": self.sla_windows,
            # the whole run's /predict latency (from a uniform sample of SAMPLE_SIZE requests)
            "latency_ms": {
                "p50": _percentile_ms(every, 0.50),
                "p99": _percentile_ms(every, 0.99),
            },
            "latency_ms_last_window": {
                "p50": _percentile_ms(latencies, 0.50),
                "p99": _percentile_ms(latencies, 0.99),
            },
            "uptime_s": round(time.time() - self.started, 1),
        }

    def render(self, model: Any, ready: bool) -> str:
        """The Prometheus text exposition of every metric."""
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        def sample(metric: str, value: float, **labels: str) -> None:
            lines.append(f"{metric}{_labels(labels)} {_number(value)}")

        with self._lock:
            family("mlready_http_requests_total", "counter", "HTTP requests by path and status.")
            for (method, path, status), count in sorted(self.requests.items()):
                sample(
                    "mlready_http_requests_total",
                    count,
                    method=method,
                    path=path,
                    status=str(status),
                )
            family(
                "mlready_http_request_errors_total",
                "counter",
                "Requests refused, by reason (malformed_json, too_large, invalid_rows...).",
            )
            for reason, count in sorted(self.errors.items()):
                sample("mlready_http_request_errors_total", count, reason=reason)
            name = "mlready_predict_latency_seconds"
            family(name, "histogram", "Time to answer POST /predict.")
            for bound, count in zip(BUCKETS, self.buckets, strict=True):
                sample(f"{name}_bucket", count, le=_number(bound))
            sample(f"{name}_bucket", self.latency_count, le="+Inf")
            sample(f"{name}_sum", round(self.latency_sum, 6))
            sample(f"{name}_count", self.latency_count)
            family("mlready_rows_received_total", "counter", "Rows received by /predict.")
            sample("mlready_rows_received_total", self.rows_in)
            family("mlready_rows_scored_total", "counter", "Rows scored by the model or cache.")
            sample("mlready_rows_scored_total", self.rows_scored)
            family(
                "mlready_rows_rejected_total",
                "counter",
                "Rows breaking the serving contract, by check (a row may break several).",
            )
            for reason, count in sorted(self.rejects.items()):
                sample("mlready_rows_rejected_total", count, reason=reason)
            family("mlready_cache_hits_total", "counter", "Rows answered from the cache.")
            sample("mlready_cache_hits_total", self.cache_hits)
            family("mlready_cache_misses_total", "counter", "Rows the model answered.")
            sample("mlready_cache_misses_total", self.cache_misses)
            family("mlready_model_swaps_total", "counter", "Hot swaps to another version.")
            sample("mlready_model_swaps_total", self.swaps)
            family("mlready_sla_breaches_total", "counter", "Windows whose p99 broke p99_ms.")
            sample("mlready_sla_breaches_total", self.sla_breaches)
        family("mlready_ready", "gauge", "1 when a model is loaded and its canary passed.")
        sample("mlready_ready", 1 if ready else 0)
        family("mlready_model_info", "gauge", "The served model version (value 1).")
        if model is not None:
            sample(
                "mlready_model_info",
                1,
                name=str(model.info.name),
                version=str(model.info.version),
                sha256=model.sha256,
            )
        family("mlready_model_version", "gauge", "The served model's version number.")
        if model is not None:
            sample("mlready_model_version", int(model.info.version))
        return "\n".join(lines) + "\n"


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values (``share`` in (0, 1])."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _percentile_ms(ordered: list[float], share: float) -> float | None:
    return None if not ordered else round(percentile(ordered, share) * 1000, 3)
