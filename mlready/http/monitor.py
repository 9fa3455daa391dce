"""Monitoring like batch: the rows `mlready serve` scores are counted into the reference
profile's bins and written in serve-batch's batch-profile format (so check-drift reads online
traffic as it reads a batch), and the p99 latency of each window is judged against the SLA."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from mlready.http.model import ServedModel
from mlready.spec import LoadedSpec

__all__ = ["LatencySla", "OnlineProfile"]

#: Fast-path rows (or requests) gathered before they are counted into the profile's bins.
PENDING_ROWS = 512


class OnlineProfile:
    """The features and answers of the rows one model version scored, in its reference's bins."""

    def __init__(self, loaded: LoadedSpec, served: ServedModel, run_id: str) -> None:
        from mlready.serving import profile_builders
        from mlready.serving.prepare import Contract

        self.loaded = loaded
        self.served = served
        self.run_id = run_id
        self.features, self.predictions = profile_builders(
            served.info, served.scorer, loaded.spec.monitoring.drift.small_sample_rows
        )
        self.findings = Contract([], [], [], {})  # merged findings of every request
        self.rows_in = 0
        self.rows_rejected = 0
        self.dirty = False
        self._lock = threading.Lock()
        #: the fast path's requests, counted together once they add up (a profile's bins cost
        #: more per call than scoring one row)
        self._pending: list[tuple[Any, dict[str, Any]]] = []
        self._pending_rows = 0

    def add(self, scored: Any) -> None:
        """Count one request's accepted rows and answers."""
        from mlready.http.fast import FastPrepared
        from mlready.serving import profile_chunk, profile_predictions

        with self._lock:
            if isinstance(scored.prepared, FastPrepared):
                self._pending.append((scored.prepared, scored.raw))
                self._pending_rows += scored.prepared.rows
                if self._pending_rows >= PENDING_ROWS or len(self._pending) >= PENDING_ROWS:
                    self._fold()
            else:
                profile_chunk(self.features, scored.prepared, self.served.info)
                profile_predictions(self.predictions, scored.raw, self.served.scorer)
            self.rows_in += scored.rows_in
            self.rows_rejected += len(scored.rejected)
            if scored.contract_state:
                self.findings.merge(scored.contract_state)
            self.dirty = True

    def _fold(self) -> None:
        """Count the pending fast-path rows into the profile (under the lock)."""
        import numpy as np

        from mlready.serving import profile_predictions

        pending, self._pending, self._pending_rows = self._pending, [], 0
        if not pending:
            return
        info = self.served.info
        numbers = np.concatenate([prepared.numbers for prepared, _ in pending])
        for j, column in enumerate(info.numeric):
            self.features.add_column(column, numbers[:, j])
        for column in info.categorical:
            counts: dict[str, int] = {}
            missing = 0
            for prepared, _ in pending:
                found, gaps = prepared.categories[column]
                missing += gaps
                for key, count in found.items():
                    counts[key] = counts.get(key, 0) + count
            self.features.add_counts(column, counts, len(numbers), missing)
        self.features.rows += len(numbers)
        scorer = self.served.scorer
        raw = {
            name: np.concatenate([answers[name] for _, answers in pending])
            for name in scorer.payload
        }
        profile_predictions(self.predictions, raw, scorer)

    def write(self, path: Path, source: str, *, force: bool = False) -> bool:
        """Write the profile to ``path`` atomically (False when nothing new was counted, unless
        ``force``)."""
        from mlready.io import atomic_write_text, json_text
        from mlready.serving import ServeResult, batch_profile

        with self._lock:
            self._fold()
            if not self.dirty and not force:
                return False
            if not self.rows_in:
                return False
            result = ServeResult(
                passed=True,
                failures=[],
                warnings=[],
                model=self.served.info.describe(),
                source=source,
                engine="http",
                rows_in=self.rows_in,
                rows_scored=self.predictions.rows,
                rows_rejected=self.rows_rejected,
                findings=[f.to_dict() for f in self.findings.findings.values()],
            )
            profile = batch_profile(
                self.features,
                self.predictions,
                self.served.info,
                self.served.scorer,
                source,
                result,
                self.run_id,
            )
            self.dirty = False
        atomic_write_text(path, json_text(profile))
        return True


class LatencySla:
    """serving.realtime.p99_ms judged once per window; a breach fires ``sla_breach`` rules."""

    def __init__(
        self,
        loaded: LoadedSpec,
        run_id: str,
        logger: logging.Logger | None = None,
    ) -> None:
        self.loaded = loaded
        self.realtime = (loaded.spec.serving or _default_serving()).realtime
        self.run_id = run_id
        self.log = logger or logging.getLogger("mlready.http")
        self.alerts: list[dict[str, Any]] = []

    def judge(self, latencies: list[float], model: str) -> dict[str, Any] | None:
        """The window's verdict (None when there is no SLA or too few requests); fires the
        alert rules on a breach."""
        budget = self.realtime.p99_ms
        if budget is None or len(latencies) < self.realtime.min_requests:
            return None
        from mlready.http.metrics import percentile

        ordered = sorted(latencies)
        p99_ms = percentile(ordered, 0.99) * 1000
        verdict = {
            "p99_ms": round(p99_ms, 3),
            "budget_ms": budget,
            "requests": len(ordered),
            "window_s": self.realtime.window_seconds,
            "met": p99_ms <= budget,
        }
        if not verdict["met"]:
            from mlready.alerts import fire

            self.log.warning(
                "latency SLA breached: p99 %.1f ms over %s requests, budget %.1f ms",
                p99_ms,
                len(ordered),
                budget,
            )
            self.alerts += fire(
                self.loaded,
                "sla_breach",
                f"mlready serve with {model}: p99 latency {p99_ms:,.1f} ms over the last "
                f"{len(ordered):,} requests, over its budget of {budget:,.1f} ms "
                "(serving.realtime.p99_ms)",
                {"sla": verdict},
                step="serve",
                run_id=self.run_id,
                logger=self.log,
            )
        return verdict


def _default_serving() -> Any:
    from mlready.spec.models import ServingSection

    return ServingSection()
