"""What one recorded run of a step gives back: the step's own result, the run that holds its
files, its report; as a dict (the JSON the CLI prints with ``--json``) and as HTML (a summary
card with the report inline, for Jupyter).

    run = project.train()
    run.passed, run.run_id, run.run_dir, run.report     # the recorded run
    run.result                                          # the step's result (TrainResult)
    run.to_dict()                                       # what `mlready train --json` prints
    run                                                 # in Jupyter: the card and the report
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    # named in quotes by the base classes below (ruff does not see those as uses)
    from mlready.checklist import ReadinessResult  # noqa: F401
    from mlready.drift import DriftResult  # noqa: F401
    from mlready.registry import Version
    from mlready.serving import ServeResult  # noqa: F401
    from mlready.training import TrainResult  # noqa: F401
    from mlready.validation.result import ValidationResult  # noqa: F401

__all__ = [
    "DriftRun",
    "ReadinessRun",
    "RegisterRun",
    "Registration",
    "ServeRun",
    "StepRun",
    "TrainRun",
    "ValidationRun",
]

R = TypeVar("R")


@dataclass(frozen=True)
class StepRun(Generic[R]):
    """One recorded run of a step: its id and folder, the step's result, and its report."""

    step: str
    run_id: str
    run_dir: Path
    #: The step's own result: a ValidationResult, TrainResult, Registration, ServeResult,
    #: DriftResult or ReadinessResult.
    result: R
    #: The run's HTML report (None for a step that writes none).
    report: Path | None

    @property
    def passed(self) -> bool:
        """Whether every check of the step passed (the CLI exits 1 when not)."""
        return bool(getattr(self.result, "passed", False))

    @property
    def exit_code(self) -> int:
        """The exit code the CLI ends with for this run: 0, or 1 when a check failed."""
        return 0 if self.passed else 1

    @property
    def verdict(self) -> str:
        """The run's outcome in one line."""
        return "PASSED" if self.passed else "FAILED"

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The key numbers of the run, as (label, value) pairs."""
        return []

    @property
    def failures(self) -> list[str]:
        """Why the run failed (empty when it passed)."""
        return list(getattr(self.result, "failures", []) or [])

    @property
    def warnings(self) -> list[str]:
        """What the run found worth a look, without failing."""
        found = getattr(self.result, "warnings", []) or []
        return [str(w) for w in found] if isinstance(found, list) else []

    @property
    def next_actions(self) -> list[str]:
        """What to do next, most useful first (the readiness report's gaps)."""
        return []

    def _payload(self) -> dict[str, Any]:
        return dict(self.result.to_dict())  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what the step's command prints with ``--json``."""
        return {
            **self._payload(),
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "report": None if self.report is None else str(self.report),
        }

    def _repr_html_(self) -> str:
        from mlready.project.notebook import step_card

        return step_card(self)


# ------------------------------------------------------------------------------ the steps


def _fixed(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


class ValidationRun(StepRun["ValidationResult"]):
    """A recorded ``validate-data`` run."""

    @property
    def verdict(self) -> str:
        r = self.result
        text = "PASSED" if r.passed else "FAILED"
        failed = f"{len(r.failed_errors)} failed"
        if r.passed and r.failed_errors:
            text, failed = "PASSED after quarantine", failed + " (their rows are set aside)"
        return f"{text}: {len(r.results)} checks, {failed}, {len(r.warnings)} warnings"

    @property
    def facts(self) -> list[tuple[str, str]]:
        r = self.result
        found = [
            ("data", r.source),
            ("expectations", r.environment),
            ("rows", f"{r.rows:,}"),
            ("fingerprint", f"sha256 {r.fingerprint[:16]}"),
        ]
        if r.quarantine:
            found.append(("quarantined", f"{r.quarantine['rejected_rows']:,} rows"))
        return found

    @property
    def failures(self) -> list[str]:
        return [f"{r.check.id}: expected {r.check.description}" for r in self.result.blocking]

    @property
    def warnings(self) -> list[str]:
        return [f"{r.check.id}: expected {r.check.description}" for r in self.result.warnings]


class TrainRun(StepRun["TrainResult"]):
    """A recorded ``train`` run."""

    @property
    def metrics(self) -> dict[str, float | None]:
        """Each metric on what the run was judged on (holdout, else the CV mean)."""
        v = self.result.metadata.get("validation") or {}
        return dict(v.get("judged_metrics") or {})

    @property
    def curves(self) -> dict[str, Any]:
        """The report's curves as numbers (metadata.json's ``validation.curves``): ``kind``
        (binary, multiclass or regression), ``basis`` (holdout or cv), ``rows``, and ``roc``,
        ``pr``, ``calibration``, ``confusion`` (classification) or ``residuals``; empty when
        nothing was fitted."""
        v = self.result.metadata.get("validation") or {}
        return dict(v.get("curves") or {})

    @property
    def verdict(self) -> str:
        r = self.result
        if r.validation_failed:
            return (
                f"FAILED: the training data failed {len(r.failures)} validation checks; "
                "nothing was fitted"
            )
        return f"{'PASSED' if r.passed else 'FAILED'} in {r.metadata['training_seconds']:.1f} s"

    @property
    def facts(self) -> list[tuple[str, str]]:
        m = self.result.metadata
        if not m:
            return []
        v = m["validation"]
        found = [("model", f"{m['model_name']}: {m['model']['type']}")]
        for name in v["metrics"]:
            s = v["cv"][name]
            text = f"{_fixed(s['mean'])} ± {_fixed(s['std'])} (CV)"
            if v["holdout_metrics"]:
                text += f", {_fixed(v['holdout_metrics'].get(name))} (holdout)"
            found.append((name, text))
        business = m.get("business") or {}
        if "cv" in business:
            best = business["cv"]["best_threshold"]
            found.append(
                (
                    "business value",
                    f"{best['value']:,.0f} {business['currency']} at threshold "
                    f"{best['threshold']:.3f}",
                )
            )
        data = m["data"]
        found.append(("data", f"{data['source']}: {data['rows']:,} rows"))
        return found

    def _payload(self) -> dict[str, Any]:
        r = self.result
        if r.validation_failed:
            return {
                "passed": False,
                "stage": "validation",
                "failures": r.failures,
                "validation": r.validation.to_dict(),
            }
        return {
            "passed": r.passed,
            "failures": r.failures,
            "warnings": r.warnings,
            "files": {k: str(v) for k, v in r.files.items()},
            "metadata": r.metadata,
        }


@dataclass(frozen=True)
class Registration:
    """What register did: the version it stored (or found), and the gate's decision."""

    model: str
    version: Version
    #: False when the same artifact was registered before (nothing changed).
    created: bool
    #: The promotion gate's decision, with ``promote`` (None without it).
    decision: dict[str, Any] | None

    @property
    def passed(self) -> bool:
        """Registered, and promoted when asked (the gate accepted)."""
        return self.decision is None or bool(self.decision["accepted"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``mlready register --json`` prints."""
        return {
            "model": self.model,
            "version": self.version.version,
            "created": self.created,
            "run_id": self.version.run_id,
            "sha256": self.version.sha256,
            "artifact": self.version.artifact_uri,
            "promotion": self.decision,
        }


class RegisterRun(StepRun[Registration]):
    """A recorded ``register`` run. ``to_dict()['run_id']`` is the train run registered (as
    ``mlready register --json`` prints it); the register run's own id is ``register_run_id``."""

    @property
    def verdict(self) -> str:
        r = self.result
        text = (
            f"registered {r.model}:{r.version.version}"
            if r.created
            else f"already registered as {r.model}:{r.version.version}"
        )
        d = r.decision
        if d is not None:
            moved = "forced" if d["forced"] else "promoted"
            text += (
                f"; {moved}: {d['alias']} -> {d['version']}"
                if d["accepted"]
                else f"; refused: {d['alias']} stays where it was"
            )
        return text

    @property
    def facts(self) -> list[tuple[str, str]]:
        v = self.result.version
        found = [
            ("version", f"{v.model_name}:{v.version}"),
            ("train run", v.run_id or ""),
            ("model sha256", v.sha256),
            ("artifact", v.artifact_uri),
        ]
        if self.result.decision is not None:
            found.append(("gate", str(self.result.decision["reason"])))
        return found

    @property
    def failures(self) -> list[str]:
        d = self.result.decision
        return [str(d["reason"])] if d is not None and not d["accepted"] else []

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "register_run_id": self.run_id}


class ServeRun(StepRun["ServeResult"]):
    """A recorded ``serve-batch`` run."""

    @property
    def verdict(self) -> str:
        r = self.result
        return (
            f"{'PASSED' if r.passed else 'FAILED'}: {r.rows_scored:,} of {r.rows_in:,} rows "
            f"scored, {r.rows_rejected:,} set aside"
        )

    @property
    def facts(self) -> list[tuple[str, str]]:
        r = self.result
        found = [
            ("model", f"{r.model.get('name')}:{r.model.get('version')}"),
            ("batch", r.source),
            ("wall time", f"{r.wall_s:,.2f} s"),
            ("peak memory", f"{r.peak_memory_mb:,.0f} MB"),
        ]
        sla = r.sla or {}
        if sla.get("budget_s") is not None:
            found.append(
                ("SLA budget", f"{sla['budget_s']:,.0f} s: {'met' if sla['met'] else 'missed'}")
            )
        found += [(name, str(path)) for name, path in r.files.items()]
        return found

    def to_dict(self) -> dict[str, Any]:
        return {**self._payload(), "run_dir": str(self.run_dir), "run_id": self.run_id}


class DriftRun(StepRun["DriftResult"]):
    """A recorded ``check-drift`` run."""

    @property
    def verdict(self) -> str:
        r = self.result
        text = "DATASET DRIFT" if r.dataset_drift else "no dataset drift"
        return (
            f"{text}: {len(r.drifted)} of {len(r.features)} features drifted "
            f"({r.share_drifted:.0%}; the bar is {r.dataset_drift_share:.0%})"
        )

    @property
    def facts(self) -> list[tuple[str, str]]:
        r = self.result
        found = [
            ("current", str(r.current.get("source"))),
            ("reference", str(r.reference.get("source"))),
            ("drifted", ", ".join(r.drifted) or "none"),
        ]
        if r.performance:
            p = r.performance
            found.append(
                (
                    f"realized {p['primary_metric']}",
                    f"{_fixed(p['value'])} (training {_fixed(p['training_value'])})",
                )
            )
        found += [(f"alert {a['rule']}", f"{a['severity']}: {a['action']}") for a in r.alerts]
        return found

    @property
    def warnings(self) -> list[str]:
        return [*self.result.warnings, *self.result.environment]


class ReadinessRun(StepRun["ReadinessResult"]):
    """A recorded ``checklist-report`` run: the production-readiness score."""

    @property
    def verdict(self) -> str:
        r = self.result
        verdict = "meets" if r.passed else "is UNDER"
        return (
            f"readiness {r.final_score:.2f} / 7 passing now ({r.band}); {r.in_place_score:.2f} "
            f"in place; {verdict} the bar of {r.pass_bar:g}"
        )

    @property
    def facts(self) -> list[tuple[str, str]]:
        return [
            (s.title, f"{s.passing_scaled:.2f} passing now, {s.scaled:.2f} in place")
            for s in self.result.sections
        ]

    @property
    def failures(self) -> list[str]:
        r = self.result
        if r.passed:
            return []
        return [f"the {r.judged.replace('_', ' ')} score is under the bar of {r.pass_bar:g}"]

    @property
    def next_actions(self) -> list[str]:
        return [
            f"{g['id']} {g['title']} ({g['status']}): {g['next_action']}" for g in self.result.gaps
        ]
