"""How each rubric item is judged from the evidence.

Each check returns a :class:`Check`: the runs whose records prove the check ran (how many, and
how many in CI, decide between 0.5 and 1 point), whether it holds now, what was found, and the
next action. Items no command can check (``automated=False`` in the rubric) return what
supports a person's attestation.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.checklist.evidence import Evidence
from mlready.runs import RunRecord

__all__ = ["CHECKS", "Check"]

PASSING, FAILING, NOT_DONE = "passing", "failing", "not done"

#: A slice group needs at least this many rows before its metrics are held to the thresholds.
MIN_SLICE_ROWS = 30
#: A bound this far from zero (or infinite) is no bound: ``min: -1e308`` lets every value in.
ABSURD_BOUND = 1e12
#: Strings a pattern that limits a category rejects at least one of (validation, like GX,
#: accepts a value when the pattern matches anywhere in it).
_ANY_TEXT = ("", "x", "any text 123 !", "Ω-7\t.")
#: A batch slower than this share of the earlier cold runs' median throughput is a regression.
THROUGHPUT_FLOOR = 0.5
#: A server that answered fewer of its /predict requests without a server error (5xx) than this
#: share was not available (three nines).
AVAILABILITY_FLOOR = 0.999


@dataclass
class Check:
    """What the evidence says about one item."""

    status: str  # passing | failing | not done
    detail: str
    runs: list[RunRecord] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    action: str = ""
    #: Set for evidence that is not a run (the repository, the registry): "repeated" | "once".
    level: str | None = None


def _not_done(detail: str, action: str) -> Check:
    return Check(NOT_DONE, detail, action=action)


def _run_ev(ev: Evidence, record: RunRecord, label: str, name: str = "") -> dict[str, Any]:
    """An evidence entry pointing at one run (and a file it wrote)."""
    path = ev.path_of(record, name)
    entry: dict[str, Any] = {
        "label": label,
        "step": record.step,
        "run_id": record.run_id,
        "path": ev.shown(path),
        "ci": record.ci,
    }
    if name and path.is_file():
        entry["exists"] = True
    elif name:
        entry["exists"] = False
    return entry


def _latest_train(ev: Evidence, key: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """The training run to judge (production's own when it has the evidence, else the newest
    that passed, else the newest) and every training run that holds the evidence."""
    found = [(r, m) for r, m in ev.train if key is None or key(m)]
    runs = [r for r, _ in found]
    chosen = ev.model_run
    if chosen is not None and (key is None or key(chosen[1])):
        return chosen, runs
    passed = [f for f in found if f[0].status == "passed"]
    return ((passed or found)[-1] if found else None), runs


def _cold(runs: list[RunRecord]) -> list[RunRecord]:
    """Scoring runs that did the work: a whole batch answered from the cache checked nothing."""
    return [r for r in runs if not (r.summary.get("cache") or {}).get("batch_hit")]


def _ended(record: RunRecord) -> float:
    """When a run ended, in seconds since the epoch (a server runs long after it started)."""
    import datetime as dt

    try:
        started = dt.datetime.fromisoformat(record.started_at).timestamp()
    except (TypeError, ValueError):
        return 0.0
    return started + float(record.duration_s or 0.0)


def _provenance(record: RunRecord) -> dict[str, Any]:
    """Where a run came from; records written before provenance existed say nothing."""
    value = getattr(record, "provenance", None)
    return value if isinstance(value, dict) else {}


def _tested_rules(ev: Evidence) -> dict[str, set[str]]:
    """Per alert rule, the channels a test alert (or a real one) was delivered to."""
    reached: dict[str, set[str]] = {}
    for record in ev.step("alert-test"):
        for sent in record.summary.get("alerts") or []:
            channels = sent.get("channels") or {}
            reached.setdefault(str(sent.get("rule")), set()).update(
                name for name, delivered in channels.items() if delivered is True
            )
    return reached


def _alerting(ev: Evidence, *events: str) -> tuple[bool, str]:
    """Whether someone is told when the check fails: an alert rule for one of ``events`` (with
    its owner, runbook and channels) whose every channel took a test alert. Without it, a check
    that runs is worth half a point: it finds the problem and nobody hears of it."""
    rules = [r for r in ev.spec.monitoring.alerts if r.when in events]
    if not rules:
        return False, (
            f" No alert rule fires on {' or '.join(events)}, so nobody is told: add one "
            "(owner, runbook, channels) under monitoring.alerts."
        )
    reached = _tested_rules(ev)
    for rule in rules:
        if set(rule.channels) <= reached.get(rule.name, set()):
            return True, (
                f" Alert rule '{rule.name}' ({rule.severity}, owner {rule.owner}) fires on "
                f"{rule.when}; a test alert reached {', '.join(rule.channels)}."
            )
    rule = rules[0]
    return False, (
        f" Alert rule '{rule.name}' (owner {rule.owner}) fires on {rule.when}, but no test "
        f"alert has reached all of its channels ({', '.join(rule.channels)})."
    )


_ALERT_ACTION = (
    "Make sure someone is told: an alert rule for it under monitoring.alerts, then "
    "`mlready check-drift --test-alert` to prove the alert arrives."
)


def _alerted(ev: Evidence, check: Check, *events: str) -> Check:
    """A passing or failing monitoring check, capped at half a point when no tested alert
    rule tells anyone."""
    if check.status == NOT_DONE:
        return check
    ok, sentence = _alerting(ev, *events)
    check.detail += sentence
    if not ok and check.runs:
        check.level = "once"
        if not check.action:
            check.action = _ALERT_ACTION
    return check


def _rule_for(ev: Evidence, event: str) -> str:
    """A sentence about the alert rule that fires on an event (or that there is none)."""
    rules = [r for r in ev.spec.monitoring.alerts if r.when == event]
    if not rules:
        return f" No alert rule fires on {event}: add one with an owner and a runbook."
    rule = rules[0]
    return f" Alert rule '{rule.name}' ({rule.severity}, owner {rule.owner}) fires on {event}."


def _n(count: int, word: str) -> str:
    """'1 run', '2 runs', '2 batches'."""
    from mlready.reporting import counted

    return counted(count, word)


def _params(params: Any) -> str:
    """Hyperparameters as a reader writes them: ``learning_rate=0.0305, max_leaf_nodes=7``."""
    if not isinstance(params, dict) or not params:
        return "its defaults" if not params else str(params)
    shown = []
    for name, value in sorted(params.items()):
        if isinstance(value, float):
            value = f"{value:.4g}"
        shown.append(f"{name}={value}")
    return ", ".join(shown)


def _duration(value: Any) -> str:
    """A timedelta as people write it: 1d, 30m, 1h30m, 45s."""
    seconds = int(value.total_seconds())
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


CHECKS: dict[str, Callable[[Evidence], Check]] = {}


def check(item_id: str) -> Callable[[Callable[[Evidence], Check]], Callable[[Evidence], Check]]:
    def register(function: Callable[[Evidence], Check]) -> Callable[[Evidence], Check]:
        CHECKS[item_id] = function
        return function

    return register


# ---------------------------------------------------------------------------------------- data


def _features(ev: Evidence) -> tuple[list[str], list[str]]:
    """The model's (numeric, categorical) features: as trained, else as declared."""
    latest, _ = _latest_train(ev, lambda m: m.get("features"))
    if latest is not None:
        feats = latest[1]["features"]
        return list(feats.get("numeric", [])), list(feats.get("categorical", []))
    declared = ev.spec.data.features
    return list(declared.numeric or []), list(declared.categorical or [])


def _real_bound(value: Any) -> bool:
    """A range bound that keeps some number out: finite and under ABSURD_BOUND in size."""
    return isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < ABSURD_BOUND


def _limiting_pattern(pattern: Any) -> bool:
    """A pattern that rejects some text: it fails to match (anywhere, as validation applies it)
    at least one of a few unrelated strings, the empty one included. ``.*`` matches them all."""
    if not isinstance(pattern, str):
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return not all(compiled.search(text) for text in _ANY_TEXT)


def _constrained(expectation: Any, numeric: bool) -> bool:
    """An expectation that limits a feature's values: a range or allowed values for a number,
    allowed values or a pattern for a category (a type alone lets any value through, and so
    do a range whose bounds are infinite or absurd and a pattern that matches any text)."""
    if expectation is None:
        return False
    if getattr(expectation, "allowed_values", None) is not None:
        return True
    if numeric:
        return any(_real_bound(getattr(expectation, key, None)) for key in ("min", "max"))
    return _limiting_pattern(getattr(expectation, "regex", None))


@check("data-1")
def _data_1(ev: Evidence) -> Check:
    columns = ev.spec.expectations.columns
    numeric, categorical = _features(ev)
    features = [*numeric, *categorical]
    uncovered = [f for f in features if not _constrained(columns.get(f), numeric=f in set(numeric))]
    covered = len(features) - len(uncovered)
    detail = (
        f"{covered} of {_n(len(features), 'feature')} "
        f"{'has' if len(features) == 1 else 'have'} expectations that limit their values "
        "(a range or allowed values for numbers, allowed values or a pattern for categories; "
        f"a bound of {ABSURD_BOUND:g} or more in size, or a pattern that matches any text, "
        "limits nothing)."
    )
    draft = "`mlready validate-data --infer` drafts them from the data"
    if features and not covered:
        return _not_done(
            detail + " No feature is under a schema.",
            f"Add a range or allowed values for each feature under expectations.columns ({draft}).",
        )
    validations = ev.step("validate-data")
    trained = [r for r, m in ev.train if (m.get("data", {}).get("validation") or {}).get("checks")]
    runs = validations or trained  # train validates its data too; one command's runs count
    if not runs:
        return _not_done(
            detail + " No validation has run yet.",
            "Run `mlready validate-data` on the training data (train also validates it).",
        )
    on_training = [r for r in validations if r.summary.get("environment") == "training"]
    latest_training = on_training[-1] if on_training else None
    others = [r for r in validations if r not in on_training]
    evidence = [
        _run_ev(
            ev, r, f"validation of {r.summary.get('environment') or 'the'} data", "validation.json"
        )
        for r in [*on_training[-2:], *others[-1:]]
    ]
    evidence += [_run_ev(ev, r, "validated by train", "metadata.json") for r in trained[-1:]]
    if latest_training is not None:
        s = latest_training.summary
        detail += (
            f" The latest validation of the training data ({latest_training.run_id}): "
            f"{_n(s.get('checks', 0), 'check')}, {s.get('failed', 0)} failed."
        )
    if uncovered:
        shown = ", ".join(uncovered[:8]) + (" ..." if len(uncovered) > 8 else "")
        return Check(
            FAILING,
            detail + f" Every feature needs one; without: {shown}.",
            runs,
            evidence,
            f"Add a range or allowed values for each of them under expectations.columns ({draft}).",
        )
    if latest_training is not None and not latest_training.summary.get("passed", False):
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Open the latest validation report and fix the data (or the expectation).",
        )
    return Check(PASSING, detail, runs, evidence)


_NO_CONTRIBUTIONS = "No training run has measured the features' contributions."


def _contributions(ev: Evidence) -> tuple[Any, list[RunRecord], list[str]]:
    """The judged training run with feature contributions, every such run, and the features
    that add nothing measurable."""
    latest, runs = _latest_train(ev, lambda m: m.get("feature_contribution"))
    if latest is None:
        return None, runs, []
    useless = [c["feature"] for c in latest[1]["feature_contribution"] if c.get("adds_nothing")]
    return latest, runs, useless


@check("data-2")
def _data_2(ev: Evidence) -> Check:
    latest, runs, useless = _contributions(ev)
    if latest is None:
        return _not_done(
            _NO_CONTRIBUTIONS,
            "Run `mlready train`: it measures each feature's contribution on held-out rows.",
        )
    record, metadata = latest
    contributions = metadata["feature_contribution"]
    evidence = [_run_ev(ev, record, "feature contributions", "metadata.json")]
    detail = (
        f"{len(contributions) - len(useless)} of {_n(len(contributions), 'feature')} add "
        "something "
        f"measurable on held-out rows (train {record.run_id})."
    )
    if useless:
        shown = ", ".join(useless[:8]) + (" ..." if len(useless) > 8 else "")
        return Check(
            FAILING,
            detail + f" Adding nothing: {shown}.",
            runs,
            evidence,
            "Drop the features that add nothing from data.features (or show on more data that "
            "they matter), then train again.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("data-3")
def _data_3(ev: Evidence) -> Check:
    latest, runs, useless_list = _contributions(ev)
    if latest is None:
        return _not_done(
            _NO_CONTRIBUTIONS,
            "Run `mlready train`, then serve and check drift: a feature's cost shows in serving.",
        )
    record = latest[0]
    useless = set(useless_list)
    since = record.started_at
    trouble: dict[str, list[str]] = {}
    for drift in ev.step("check-drift"):
        if drift.started_at >= since:
            for name in drift.summary.get("drifted") or []:
                trouble.setdefault(name, []).append(f"drifted in check-drift {drift.run_id}")
    for serve in ev.step("serve-batch"):
        if serve.started_at >= since:
            for name, count in (serve.summary.get("unseen_categories") or {}).items():
                if count:
                    trouble.setdefault(name, []).append(
                        f"{count} unseen categories in serve-batch {serve.run_id}"
                    )
    served = [
        r for step in ("serve-batch", "check-drift") for r in ev.step(step) if r.started_at >= since
    ]
    if not served:
        return _not_done(
            f"{_n(len(useless), 'feature')} add{'s' if len(useless) == 1 else ''} nothing "
            "measurable; no batch has been served or "
            f"checked since train {record.run_id}, so their cost in serving is unknown.",
            "Score a batch (`mlready serve-batch`) and check it (`mlready check-drift`).",
        )
    costly = sorted(useless & set(trouble))
    evidence = [_run_ev(ev, record, "feature contributions", "metadata.json")]
    detail = (
        f"{_n(len(useless), 'feature')} add{'s' if len(useless) == 1 else ''} nothing "
        "measurable; "
        f"{len(costly)} of them caused alarms in serving since train {record.run_id}."
    )
    if costly:
        reasons = "; ".join(f"{name}: {trouble[name][-1]}" for name in costly[:5])
        return Check(
            FAILING,
            detail + f" {reasons}.",
            runs,
            evidence,
            f"Drop {', '.join(costly[:5])} from data.features: "
            + ("it raises alarms and adds" if len(costly) == 1 else "they raise alarms and add")
            + " nothing.",
        )
    return Check(PASSING, detail, runs, evidence)


def _never_features(ev: Evidence, metadata: dict[str, Any]) -> set[str]:
    """The target and the id columns: never features, so forbidding them keeps nothing out."""
    target = metadata.get("target") or ev.spec.data.target
    ids = metadata.get("id_columns")
    ids = ev.spec.data.id_columns if ids is None else ids
    return {str(target), *(str(c) for c in ids or [])}


def _forbidden_present(ev: Evidence, metadata: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The forbidden columns a training run found in its data that could have been features,
    and those it found that are the target or an id column (which count for nothing)."""
    facts = (metadata.get("leakage") or {}).get("forbidden") or {}
    never = _never_features(ev, metadata)
    present = [str(c) for c in facts.get("present") or []]
    return [c for c in present if c not in never], [c for c in present if c in never]


def _forbidden_kept_out(ev: Evidence, metadata: dict[str, Any]) -> bool:
    """A training run that found a forbidden column in its data (not the target or an id
    column) and used none as a feature."""
    facts = (metadata.get("leakage") or {}).get("forbidden") or {}
    return bool(_forbidden_present(ev, metadata)[0]) and not facts.get("used")


@check("data-4")
def _data_4(ev: Evidence) -> Check:
    forbidden = ev.spec.data.forbidden_columns
    if not forbidden:
        return _not_done(
            "data.forbidden_columns is empty: no column is declared off limits.",
            "List identifiers, personal data and outcome proxies under data.forbidden_columns.",
        )
    latest, _ = _latest_train(ev, lambda m: (m.get("leakage") or {}).get("forbidden") is not None)
    if latest is None:
        return _not_done(
            f"{len(forbidden)} forbidden columns declared; no training run has looked for them "
            "in the data yet.",
            "Run `mlready train`: it finds the forbidden columns in the data, keeps them out "
            "of the features and looks for target proxies.",
        )
    record, metadata = latest
    leakage = metadata["leakage"]
    facts = leakage["forbidden"]
    present, never = _forbidden_present(ev, metadata)
    used = facts.get("used") or []
    found = {*present, *never}
    absent = [c for c in facts.get("declared") or forbidden if c not in found]
    evidence = [_run_ev(ev, record, "leakage checks", "metadata.json")]
    runs = [r for r, m in ev.train if _forbidden_kept_out(ev, m)]
    aside = (
        f" {', '.join(never[:5])}: the target or an id column, never a feature anyway, so "
        "forbidding it keeps nothing out."
        if never
        else ""
    )
    if not present:
        what = (
            f"None of the other forbidden columns ({', '.join(absent[:5])}) is"
            if never and absent
            else "No other forbidden column is"
            if never
            else f"None of the forbidden columns ({', '.join(absent[:5])}) is"
        )
        return _not_done(
            f"{what} in the training data (train {record.run_id}): a rule about columns that "
            "do not exist keeps nothing out." + aside,
            "Name under data.forbidden_columns the identifiers, personal data or outcome "
            "proxies the data really holds, other than the target and data.id_columns (the "
            "training report lists its columns).",
        )
    proxies = leakage.get("target_proxies") or []
    disorder = (leakage.get("time_order") or {}).get("total", 0)
    detail = (
        f"{len(present)} forbidden columns found in the data ({', '.join(present[:5])}), "
        f"{len(used)} used as features; {len(proxies)} target proxies, {disorder} time-order "
        f"breaks (train {record.run_id})."
    )
    if absent:
        detail += f" Declared but not in the data: {', '.join(absent[:5])}."
    if never:
        detail += f" Not counted:{aside}"
    if used or proxies or disorder:
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Open the training report's leakage section: drop the forbidden and proxy columns "
            "from the features, or fix the time order of the folds.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("data-5")
def _data_5(ev: Evidence) -> Check:
    forbidden = ev.spec.data.forbidden_columns
    return _not_done(
        f"mlready keeps {len(forbidden)} forbidden columns out of the features; who may read "
        "the data, and why, is a person's call.",
        "Have the data's owner or privacy officer attest it under checklist.attestations "
        "(item data-5).",
    )


@check("data-6")
def _data_6(ev: Evidence) -> Check:
    return _not_done(
        "A feature is one line in data.features: validated, trained, served and monitored "
        "without new code. How fast new data reaches the table is outside mlready.",
        "Attest it under checklist.attestations (item data-6) once a feature has gone from "
        "idea to production.",
    )


def _tests_passed(summary: dict[str, Any]) -> bool:
    """A test run that ran at least one test, none failing or in error."""
    tests = summary.get("tests")
    return (
        isinstance(tests, int)
        and tests - int(summary.get("skipped") or 0) >= 1
        and not summary.get("failures")
        and not summary.get("errors")
        and not summary.get("exit_code")
    )


@check("data-7")
def _data_7(ev: Evidence) -> Check:
    from mlready.io import sha256_file

    command = ev.spec.checklist.test_command
    runs = [r for r in ev.step("test") if isinstance(r.summary.get("tests"), int)]
    if not runs:
        if command is None:
            return _not_done(
                "checklist.test_command is not set: mlready does not run the project's tests, "
                "so nothing shows that the feature code is tested (test files or a CI file "
                "alone prove nothing).",
                "Set checklist.test_command to a command that writes JUnit XML to {junit} "
                "(e.g. `pytest tests --junitxml={junit}`), then run `mlready test`.",
            )
        return _not_done(
            f"checklist.test_command is `{command}`; it has not run yet.",
            "Run `mlready test` (`mlready run` starts with it).",
        )
    latest = runs[-1]
    s = latest.summary
    evidence = [_run_ev(ev, latest, "JUnit report", "junit.xml")]
    detail = (
        f"{_n(len(runs), 'test run')}; the latest (test {latest.run_id}): "
        f"{_n(s['tests'], 'test')}, {s.get('failures', 0)} failed, {s.get('errors', 0)} in "
        f"error, {s.get('skipped', 0)} skipped."
    )
    junit = ev.path_of(latest, "junit.xml")
    proved = [r for r in runs if _tests_passed(r.summary)]
    if not junit.is_file() or sha256_file(junit) != s.get("junit_sha256"):
        return Check(
            FAILING,
            detail + f" Its JUnit report {ev.shown(junit)} is missing or changed since the run.",
            proved,
            evidence,
            "Run `mlready test` again.",
        )
    if not _tests_passed(s):
        why = (
            "It ran no test: an empty test file proves nothing."
            if s["tests"] - int(s.get("skipped") or 0) < 1
            else "Tests failed."
        )
        return Check(
            FAILING,
            detail + f" {why}",
            proved,
            evidence,
            "Fix the failing tests (the JUnit report names them)"
            if why == "Tests failed."
            else "Write tests that exercise the code that builds the input data.",
        )
    return Check(PASSING, detail, proved, evidence)


# --------------------------------------------------------------------------------------- model


@check("model-1")
def _model_1(ev: Evidence) -> Check:
    repo = ev.repo
    spec_path = ev.shown(ev.loaded.path)
    if repo.root is None or not repo.spec_tracked:
        where = "is not in a git repository" if repo.root is None else "is not tracked by git"
        return _not_done(
            f"The spec {spec_path} {where}." + (f" ({repo.note})" if repo.note else ""),
            f"Commit {spec_path} and review changes to it through pull requests.",
        )
    # the proof is in the runs: a model trained from the spec as committed, not a CI file
    runs = [r for r in ev.step("train") if _provenance(r).get("spec_committed") is True]
    chosen = ev.model_run
    if chosen is None:
        return _not_done(
            f"{spec_path} is under git; no model has been trained from it yet.",
            "Run `mlready train` from the committed spec.",
        )
    record = chosen[0]
    said = _provenance(record)
    commit = str(said.get("git_commit") or "")[:12]
    evidence = [
        {"label": "spec under git", "path": spec_path, "commit": (repo.commit or "")[:12]},
        _run_ev(ev, record, "model trained from", "metadata.json"),
    ]
    if not repo.spec_clean:
        return Check(
            FAILING,
            f"{spec_path} has changes that are not committed: the next model would be trained "
            "from a spec nobody reviewed.",
            runs,
            evidence,
            "Commit the spec (through a reviewed pull request), then `mlready train` again.",
        )
    if said.get("spec_committed") is not True:
        why = (
            "was trained from a spec with uncommitted changes"
            if said.get("spec_committed") is False
            else "does not record whether its spec was committed (an older run record)"
        )
        result = Check(
            FAILING,
            f"The model (train {record.run_id}) {why}.",
            runs,
            evidence,
            "Train again from the committed spec (`mlready train`).",
        )
        if not runs:
            result.status = NOT_DONE
        return result
    return Check(
        PASSING,
        f"The model (train {record.run_id}) was trained from {spec_path} as committed "
        f"({commit or 'commit unknown'}); it has no local changes now.",
        runs,
        evidence,
    )


def _with_outcomes(ev: Evidence) -> list[RunRecord]:
    return [
        r
        for r in ev.step("check-drift")
        if (r.summary.get("performance") or {}).get("value") is not None
    ]


def _labelled_rows(ev: Evidence, record: RunRecord) -> int | None:
    """How many served rows had a known outcome in a check-drift --outcomes run (its
    drift.json), or None when the run does not say."""
    rows = ((ev.run_json(record, "drift.json") or {}).get("performance") or {}).get("rows")
    return rows if isinstance(rows, int) else None


def _enough_outcomes(ev: Evidence) -> list[RunRecord]:
    """check-drift --outcomes runs with MIN_SLICE_ROWS labelled rows or more: on two rows a
    metric (roc_auc 1.0) or a business value says nothing."""
    return [r for r in _with_outcomes(ev) if (_labelled_rows(ev, r) or 0) >= MIN_SLICE_ROWS]


def _distinct_batches(runs: list[RunRecord]) -> list[RunRecord]:
    """One run per checked batch (the newest): the same batch checked again measures nothing new."""
    newest: dict[Any, RunRecord] = {}
    for r in runs:
        current = r.summary.get("current") or {}
        newest[(current.get("serve_run") or current.get("source") or r.run_id, _version(r))] = r
    return sorted(newest.values(), key=lambda r: r.started_at)


def _version(record: RunRecord) -> Any:
    model = record.summary.get("model") or {}
    return model.get("version") if isinstance(model, dict) else None


@check("model-2")
def _model_2(ev: Evidence) -> Check:
    runs = _distinct_batches(_enough_outcomes(ev))
    if not runs:
        small = _with_outcomes(ev)
        if small:
            rows = _labelled_rows(ev, small[-1])
            labelled = (
                "an unrecorded number of labelled rows"
                if rows is None
                else _n(rows, "labelled row")
            )
            return _not_done(
                f"check-drift {small[-1].run_id} scored the served predictions against "
                f"{labelled}; "
                f"realized performance counts from {MIN_SLICE_ROWS} rows (on fewer, a metric "
                "says nothing).",
                f"Run `mlready check-drift --outcomes FILE` once {MIN_SLICE_ROWS} or more of "
                "the batch's outcomes are known.",
            )
        return _not_done(
            "No served batch has been scored against its true outcomes.",
            "When a batch's outcomes are known, run `mlready check-drift --outcomes FILE`.",
        )
    latest = runs[-1]
    perf = latest.summary["performance"]
    metric, value, offline = perf["primary_metric"], perf["value"], perf.get("training_value")
    evidence = [_run_ev(ev, r, "realized performance", "drift.json") for r in runs[-3:]]
    detail = (
        f"Realized {metric} {_fmt(value)} on served data against {_fmt(offline)} offline "
        f"(check-drift {latest.run_id}, {_labelled_rows(ev, latest):,} labelled rows; "
        f"{_n(len(runs), 'labelled batch')} of {MIN_SLICE_ROWS} rows or more checked)."
    )
    if "performance_drop" in (latest.summary.get("events") or []):
        return Check(
            FAILING,
            detail + " That is a drop beyond the tolerance.",
            runs,
            evidence,
            "Find out why served data scores worse (drift report), then retrain or roll back.",
        )
    return Check(PASSING, detail, runs, evidence)


#: A search over fewer distinct configurations than this is a fixed choice, not tuning.
MIN_SEARCH_CANDIDATES = 2


def _evaluated(metadata: dict[str, Any]) -> int:
    """How many distinct configurations a training run's search scored."""
    import json

    search = (metadata.get("model") or {}).get("search") or {}
    if isinstance(search.get("evaluated"), int):
        return int(search["evaluated"])
    results = search.get("results") or []
    return len({json.dumps(c.get("params"), sort_keys=True, default=str) for c in results})


@check("model-3")
def _model_3(ev: Evidence) -> Check:
    latest, _ = _latest_train(ev, lambda m: (m.get("model") or {}).get("search"))
    if latest is None:
        if not ev.train:
            return _not_done("No training run yet.", "Add model.search to the spec and train.")
        return _not_done(
            "Training used fixed hyperparameters: no search.",
            "Add model.search (method, metric and the space to search) and train again.",
        )
    record, metadata = latest
    search = metadata["model"]["search"]
    evaluated = _evaluated(metadata)
    runs = [r for r, m in ev.train if _evaluated(m) >= MIN_SEARCH_CANDIDATES]
    evidence = [_run_ev(ev, record, "search", "metadata.json")]
    detail = (
        f"{search.get('method')} search scored {_n(evaluated, 'distinct configuration')}; "
        f"best {search.get('metric')} {_fmt(search.get('best_score'))} with "
        f"{_params(search.get('best_params'))} (train {record.run_id})."
    )
    if evaluated < MIN_SEARCH_CANDIDATES:
        return _not_done(
            detail + " One configuration is a fixed choice, not a search.",
            "Give model.search a space with several values and n_iter of 2 or more, then "
            "train again.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("model-4")
def _model_4(ev: Evidence) -> Check:
    limit = ev.spec.monitoring.max_model_age_days
    runs = [
        r
        for r in _distinct_batches(_enough_outcomes(ev))
        if isinstance(r.summary.get("model_age_days"), (int, float))
    ]
    ages = {round(r.summary["model_age_days"]) for r in runs}
    if not runs:
        return _not_done(
            f"Realized performance has not been measured at any model age (on {MIN_SLICE_ROWS} "
            "labelled rows or more).",
            "Run `mlready check-drift --outcomes FILE` on each batch whose outcomes are known: "
            "performance by model age shows how fast the model goes stale.",
        )
    points = [(r.summary["model_age_days"], r.summary["performance"]["value"]) for r in runs[-6:]]
    metric = runs[-1].summary["performance"]["primary_metric"]
    shown = ", ".join(f"{age:.0f} d: {_fmt(value)}" for age, value in points)
    evidence = [_run_ev(ev, r, "performance at age", "drift.json") for r in runs[-3:]]
    detail = f"Realized {metric} by model age: {shown}."
    # the impact of age shows only across ages: one age measured is a start, not a curve
    level = "repeated" if len(ages) >= 2 else "once"
    action = (
        ""
        if level == "repeated"
        else "Check outcomes again when the model is older: performance at two ages or more "
        "shows how fast it goes stale."
    )
    if limit is None:
        return Check(
            FAILING,
            detail + " No age limit is set.",
            runs,
            evidence,
            "Set monitoring.max_model_age_days to the age at which performance fell too far.",
            level=level,
        )
    return Check(
        PASSING, detail + f" The age limit is {limit:g} days.", runs, evidence, action, level
    )


@check("model-5")
def _model_5(ev: Evidence) -> Check:
    def linear(m: dict[str, Any]) -> Any:
        return next(
            (b for b in (m.get("validation") or {}).get("baselines", []) if b["kind"] == "linear"),
            None,
        )

    latest, runs = _latest_train(ev, linear)
    if latest is None:
        return _not_done(
            "No training run compared the model with a linear baseline.",
            "Add linear to validation.baselines and train again.",
        )
    record, metadata = latest
    base = linear(metadata)
    detail = (
        f"On {base['metric']}: model {_fmt(base['model_value'])}, linear baseline "
        f"{_fmt(base['value'])}, folds' spread {_fmt(base.get('margin'))}: {base['verdict']} "
        f"(train {record.run_id})."
    )
    evidence = [_run_ev(ev, record, "baselines", "metadata.json")]
    if base["verdict"] != "model better":
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            f"Serve the linear model (it is "
            f"{'better' if base['verdict'] == 'baseline better' else 'as good'} and cheaper), "
            "or give the complex model features or data that let it win.",
        )
    return Check(PASSING, detail, runs, evidence)


def _slice_misses(metadata: dict[str, Any], ev: Evidence) -> tuple[int, int, list[str]]:
    """Slice groups of MIN_SLICE_ROWS or more, how many (group, threshold) comparisons were
    made, and the groups below a bar."""
    validation = metadata.get("validation") or {}
    slices = validation.get("slices") or {}
    basis = "holdout" if slices.get("holdout") else "cv"
    bars = {t["metric"]: t for t in validation.get("thresholds") or []}
    if not bars:
        from mlready.training.metrics import higher_is_better

        bars = {
            name: {
                "metric": name,
                "bar": bar,
                "direction": "at least" if higher_is_better(name) else "at most",
            }
            for name, bar in ev.spec.validation.thresholds.items()
        }
    groups, compared, misses = 0, 0, []
    for entry in slices.get(basis) or []:
        for group in entry.get("groups") or []:
            if group.get("rows", 0) < MIN_SLICE_ROWS:
                continue
            groups += 1
            for name, bar in bars.items():
                value = (group.get("metrics") or {}).get(name)
                if value is None:
                    continue
                compared += 1
                at_least = bar.get("direction", "at least") == "at least"
                worse = value < bar["bar"] if at_least else value > bar["bar"]
                if worse:
                    misses.append(
                        f"{entry['name']} = {group['group']}: {name} {value:.3f} against "
                        f"{bar['bar']:g} ({_n(group['rows'], 'row')})"
                    )
    return groups, compared, misses


@check("model-6")
def _model_6(ev: Evidence) -> Check:
    latest, runs = _latest_train(
        ev, lambda m: any(((m.get("validation") or {}).get("slices") or {}).values())
    )
    if latest is None:
        return _not_done(
            "No training run measured quality per slice.",
            "List the groups that matter (region, customer type, ...) under validation.slices.",
        )
    record, metadata = latest
    runs = [r for r, m in ev.train if r in runs and _slice_misses(m, ev)[1]]
    groups, compared, misses = _slice_misses(metadata, ev)
    evidence = [_run_ev(ev, record, "slice metrics", "training.html")]
    detail = (
        f"{_n(groups, 'slice group')} with at least {MIN_SLICE_ROWS} rows held to "
        f"validation.thresholds (train {record.run_id})."
    )
    if not compared:
        why = (
            "validation.thresholds sets no bar, so no group was held to one"
            if not (
                ev.spec.validation.thresholds
                or (metadata.get("validation") or {}).get("thresholds")
            )
            else f"no slice group has {MIN_SLICE_ROWS} rows and a metric that has a bar"
            if groups == 0
            else "no slice group has a metric that validation.thresholds sets a bar for"
        )
        return _not_done(
            detail + f" Nothing was compared: {why}.",
            "Set validation.thresholds (the bar each metric must meet, e.g. roc_auc: 0.8) and "
            f"slices whose groups have {MIN_SLICE_ROWS} rows or more, then train again.",
        )
    if misses:
        shown = "; ".join(misses[:4]) + (f"; and {len(misses) - 4} more" if len(misses) > 4 else "")
        return Check(
            FAILING,
            detail + f" Below the bar: {shown}.",
            runs,
            evidence,
            "Look at the slices below the bar in the training report: more data or features "
            "for those groups, or a separate model for them.",
        )
    return Check(
        PASSING, detail + f" All meet the bars ({_n(compared, 'comparison')}).", runs, evidence
    )


@check("model-7")
def _model_7(ev: Evidence) -> Check:
    slices = [s.name for s in ev.spec.validation.slices]
    supporting = (
        f"train reports every metric for {_n(len(slices), 'slice')} ({', '.join(slices[:4])})"
        if slices
        else "no validation.slices are declared, so there are no per-group metrics to read"
    )
    return _not_done(
        f"Inclusion is a judgment: {supporting}.",
        "Read the per-slice metrics for the groups of people the model affects, then attest "
        "it under checklist.attestations (item model-7).",
    )


# -------------------------------------------------------------------------------- infrastructure


@check("infra-1")
def _infra_1(ev: Evidence) -> Check:
    findings: list[tuple[RunRecord, bool, str]] = []
    for record, metadata in ev.train:
        repro = metadata.get("reproducibility")
        if repro:
            findings.append((record, bool(repro.get("identical")), "trained twice"))
    seen: dict[tuple[Any, ...], RunRecord] = {}
    for record in ev.step("train"):
        s = record.summary
        if not s.get("passed") or not s.get("model_sha256") or not s.get("data_fingerprint"):
            continue
        key = (s["data_fingerprint"], s.get("spec_hash"), record.mlready_version)
        if key in seen:
            same = seen[key].summary["model_sha256"] == s["model_sha256"]
            findings.append((record, same, f"same inputs as train {seen[key].run_id}"))
        seen[key] = record
    if not findings:
        return _not_done(
            "No evidence that training gives the same model twice.",
            "Run `mlready train --check-reproducible` (or train twice on the same data and "
            "spec): the artifacts must match.",
        )
    findings.sort(key=lambda f: f[0].started_at)
    evidence_runs = list({f[0].run_id: f[0] for f in findings}.values())
    record = findings[-1][0]
    latest = [f for f in findings if f[0].run_id == record.run_id]
    same = all(f[1] for f in latest)  # trained twice and compared with an earlier run: both
    how = " and ".join(f[2] for f in latest)
    evidence = [_run_ev(ev, r, how, "metadata.json") for r, _s, how in findings[-3:]]
    detail = (
        f"{_n(len(findings), 'reproducibility check')}; the latest (train {record.run_id}, {how})"
    )
    if not same:
        return Check(
            FAILING,
            detail + " produced a different model.",
            evidence_runs,
            evidence,
            "Fix every source of randomness: set model.random_state, avoid unordered inputs.",
        )
    return Check(PASSING, detail + " produced the same model.", evidence_runs, evidence)


@check("infra-2")
def _infra_2(ev: Evidence) -> Check:
    runs = ev.step("train")
    if not runs:
        return _not_done(
            "The spec has not been through a training run yet.",
            "Run `mlready spec check`, then `mlready train` (both check the spec first).",
        )
    latest = runs[-1]
    evidence = [_run_ev(ev, latest, "spec checked by train", "run.log")]
    broken = [r for r in ev.broken.get("train", []) if r.started_at > latest.started_at]
    detail = (
        f"{_n(len(runs), 'training run')} checked the spec and the estimator's parameters before "
        "reading data."
    )
    if broken:
        return Check(
            FAILING,
            detail + f" The latest attempt (train {broken[-1].run_id}) ended in an error.",
            runs,
            evidence,
            f"Read {ev.shown(ev.path_of(broken[-1], 'run.log'))}, fix what it names, and train "
            "again.",
        )
    return Check(PASSING, detail, runs, evidence)


PIPELINE = ("validate-data", "train", "register", "serve-batch", "check-drift")


@check("infra-3")
def _infra_3(ev: Evidence) -> Check:
    counts = {step: len(ev.step(step)) for step in PIPELINE}
    missing = [step for step, n in counts.items() if n == 0]
    if missing:
        return _not_done(
            "The pipeline has not run end to end: no run of " + ", ".join(missing) + ".",
            "Run every step (`mlready run` runs them in order), then make CI run them.",
        )
    rounds = min(counts.values())
    in_ci = min(sum(1 for r in ev.step(step) if r.ci) for step in PIPELINE)
    # every round counts towards "repeated"; the level below caps it at the rounds complete
    runs = sorted((r for step in PIPELINE for r in ev.step(step)), key=lambda r: r.started_at)
    latest = [ev.step(step)[-1] for step in PIPELINE]
    level = "repeated" if rounds >= 2 else "once"
    evidence = [_run_ev(ev, r, f"latest {r.step}") for r in latest]
    detail = (
        f"The whole pipeline ran {_n(rounds, 'time')} ({in_ci} in CI): "
        + ", ".join(f"{step} {n}" for step, n in counts.items())
        + "."
    )
    errors = [
        step
        for step in PIPELINE
        if ev.broken.get(step) and ev.broken[step][-1].started_at > ev.step(step)[-1].started_at
    ]
    if errors:
        return Check(
            FAILING,
            detail + " The latest attempt of " + ", ".join(errors) + " ended in an error.",
            runs,
            evidence,
            "Read "
            + " and ".join(ev.shown(ev.path_of(ev.broken[step][-1], "run.log")) for step in errors)
            + ", fix what it names, and run the step again.",
            level=level,
        )
    return Check(PASSING, detail, runs, evidence, level=level)


@check("infra-4")
def _infra_4(ev: Evidence) -> Check:
    runs = [r for r in ev.step("register") if "accepted" in r.summary]
    reg = ev.registry
    if reg.error:
        return _not_done(f"The registry could not be read: {reg.error}.", "Check registry.url.")
    if not runs or reg.production is None:
        return _not_done(
            "No model has passed the promotion gate into production.",
            "Run `mlready register --promote production`: the gate decides.",
        )
    prod = reg.production
    moves = [
        h for h in reg.history if h["alias"] == "production" and h["to_version"] == prod.version
    ]
    last = moves[-1] if moves else {}
    evidence = [
        {
            "label": "production",
            "model": f"{prod.model_name}:{prod.version}",
            "sha256": prod.sha256,
            "path": ev.shown(prod.artifact_uri),
        },
        *(_run_ev(ev, r, "gate decision") for r in runs[-2:]),
    ]
    detail = (
        f"Production is {prod.model_name}:{prod.version}; "
        f"{sum(1 for r in runs if r.summary.get('accepted'))} of {len(runs)} gate decisions "
        "accepted."
    )
    if last.get("forced") or not prod.passed:
        why = "was forced past the gate" if last.get("forced") else "misses its thresholds"
        return Check(
            FAILING,
            detail + f" The production version {why}: {last.get('reason') or ''}".rstrip(": "),
            runs,
            evidence,
            "Train a version that passes the gate and promote it without --force.",
        )
    return Check(PASSING, detail + " It passed the gate without --force.", runs, evidence)


@check("infra-5")
def _infra_5(ev: Evidence) -> Check:
    reg = ev.registry
    latest, runs = _latest_train(ev, lambda m: m.get("input_example") is not None)
    if latest is None:
        return _not_done(
            "No trained model with its metadata yet.", "Run `mlready train`, then register it."
        )
    record, metadata = latest
    evidence = [
        _run_ev(ev, record, "metadata", "metadata.json"),
        _run_ev(ev, record, "training report", "training.html"),
    ]
    missing = [e["path"] for e in evidence if not e.get("exists")]
    detail = (
        f"train {record.run_id} kept its metadata (features, input example, per-fold and "
        f"per-slice metrics, {len(metadata.get('feature_contribution') or [])} feature "
        "contributions) and its report."
    )
    # the format judged is the one that is served: production's stored file, else the run's
    model_label = f"train {record.run_id}'s model"
    stored_format = (metadata.get("artifact") or {}).get("format")
    if reg.production is not None:
        model_label = f"Production {reg.model_name}:{reg.production.version}"
        stored_format = Path(reg.production.artifact_uri).suffix.lstrip(".")
        detail += f" {model_label}'s artifact is " + (
            "intact (sha256 verified)." if reg.production_artifact_ok else "MISSING or changed."
        )
        if not reg.production_artifact_ok:
            return Check(
                FAILING,
                detail,
                runs,
                evidence,
                "Restore the artifact store, or register the model again.",
            )
    if stored_format not in (None, "skops"):
        return Check(
            FAILING,
            detail + f" {model_label} is stored as {stored_format} (pickle): it cannot be "
            "inspected without running it, and loading it runs code from the file (guarded "
            "only by its sha256 and --allow-pickle).",
            runs,
            evidence,
            "Train without --allow-pickle (model.skops), then register and promote the new "
            "version.",
        )
    if stored_format == "skops":
        detail += f" {model_label} is stored as skops: its types are checked before it loads."
    if missing:
        return Check(
            FAILING,
            detail + " Missing: " + ", ".join(missing) + ".",
            runs,
            evidence,
            "Keep the artifacts folder (runs/) of every registered model.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("infra-6")
def _infra_6(ev: Evidence) -> Check:
    # serve-batch runs, and `mlready serve` runs (a server canaries each version it loads)
    runs = [
        r
        for r in _cold(ev.step("serve-batch")) + ev.step("serve")
        if r.summary.get("canary") is not None
    ]
    runs.sort(key=_ended)
    if not runs:
        return _not_done(
            "No batch has been scored yet.", "Run `mlready serve-batch`: it canaries the model."
        )
    latest = runs[-1]
    passed = sum(1 for r in runs if r.summary.get("canary"))
    evidence = [_run_ev(ev, r, "canary") for r in runs[-3:]]
    detail = f"The canary passed in {passed} of {_n(len(runs), 'scoring run')}."
    if not latest.summary.get("canary"):
        return Check(
            FAILING,
            detail + f" It failed in the latest ({latest.step} {latest.run_id}).",
            runs,
            evidence,
            "Read the run.log: the model does not load or predict in this environment.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("infra-7")
def _infra_7(ev: Evidence) -> Check:
    reg = ev.registry
    if reg.error:
        return _not_done(f"The registry could not be read: {reg.error}.", "Check registry.url.")
    if reg.production is None:
        return _not_done(
            "Nothing is in production, so nothing can be rolled back.",
            "Register and promote a model (`mlready register --promote production`).",
        )
    moves = [h for h in reg.history if h["alias"] == "production" and h["accepted"]]
    rollbacks = [h for h in moves if h.get("action") == "rollback"]
    evidence = [{"label": "production history", "moves": len(moves), "rollbacks": len(rollbacks)}]
    detail = (
        f"Production moved {_n(len(moves), 'time')} ({_n(len(rollbacks), 'rollback')}); it is "
        f"{reg.model_name}:{reg.production.version}."
    )
    if reg.previous is None:
        # a re-promotion of the same version moves nothing: there is still nothing to go back to
        return _not_done(
            detail + " No earlier production version to roll back to.",
            "Promote a second version through the gate (`mlready register --promote "
            "production`); then `mlready registry rollback` can restore the first.",
        )
    earlier = next((v for v in reg.versions if v.version == reg.previous), None)
    gated = [
        h
        for h in moves
        if h["to_version"] == reg.previous and h.get("action") != "rollback" and not h["forced"]
    ]
    if earlier is None or not earlier.passed or not gated:
        return Check(
            FAILING,
            detail + f" Version {reg.previous}, the one a rollback would restore, never passed "
            "the promotion gate: rolling back would serve a model nobody vetted.",
            [],
            evidence,
            "Promote a version that passes the gate before the current one, so that a "
            "rollback restores a vetted model.",
        )
    if not reg.previous_artifact_ok:
        return Check(
            FAILING,
            detail + f" Version {reg.previous}'s artifact is missing or changed.",
            [],
            evidence,
            "Restore the artifact store: a rollback would fail to load it.",
        )
    detail += f" A rollback would restore version {reg.previous} (gated, artifact verified)."
    if not rollbacks:
        return _not_done(
            detail + " No rollback has ever been done, so nobody knows it works.",
            "Run a rollback drill: `mlready registry rollback`, check the old model serves, "
            "then promote the current one again (`mlready registry promote VERSION`).",
        )
    days = {str(h.get("at") or "")[:10] for h in rollbacks}
    # the drills live in the registry database, outside the run log: nothing records who ran
    # them, from which commit, or whether a person typed them, so they count as done by hand
    return Check(
        PASSING,
        detail + f" Rollbacks done on {_n(len(days), 'day')}. Rollback drills are not yet "
        "recorded with provenance (they live in the registry database, outside the run log), "
        "so they count as done by hand: 0.5 at most.",
        [],
        evidence,
        "Keep drilling the rollback (`mlready registry rollback`, then promote again); it "
        "earns the full point once drills are recorded in the run log.",
        level="once",
    )


# ---------------------------------------------------------------------------------- monitoring


def _input_key(ev: Evidence, source: Any) -> str | None:
    """A batch's input as one name: its path made absolute against the spec's folder (a SQL
    query as written), so that the same file read by two commands is one batch."""
    if not source:
        return None
    text = str(source)
    if text.startswith("SQL:"):
        return text
    path = Path(text)
    if not path.is_absolute():
        path = Path(ev.loaded.base_dir) / path
    return os.path.normpath(path)


def _newest_batch(
    ev: Evidence, runs: list[RunRecord], key_of: Callable[[RunRecord], str | None]
) -> RunRecord:
    """The run whose verdict stands: the latest check of the newest batch. A batch is as new as
    the first time it was served or checked, so checking an earlier batch again (or serving it
    again) never replaces the verdict on a newer one; a run that names no input is its own
    batch."""
    first: dict[str, Any] = {}
    for record in ev.step("serve-batch"):
        key = _input_key(ev, record.summary.get("source"))
        if key is not None and (key not in first or record.started_at < first[key]):
            first[key] = record.started_at
    latest: dict[str, RunRecord] = {}
    for record in runs:
        key = key_of(record) or f"run {record.run_id}"
        if key not in first or record.started_at < first[key]:
            first[key] = record.started_at
        if key not in latest or record.started_at >= latest[key].started_at:
            latest[key] = record
    newest = max(latest, key=lambda k: (first[k], latest[k].started_at))
    return latest[newest]


def _stale_note(judged: RunRecord, latest: RunRecord, what: str) -> str:
    """A sentence saying the newest run re-checked an earlier batch and so decides nothing."""
    if judged is latest:
        return ""
    return (
        f" The newest {what} ({latest.step} {latest.run_id}) is of a batch seen before the one "
        f"{judged.step} {judged.run_id} checked, so it does not replace that verdict."
    )


@check("monitor-1")
def _monitor_1(ev: Evidence) -> Check:
    runs = ev.step("check-drift")
    if not runs:
        return _not_done(
            "No check has compared the installed packages with training's.",
            "Run `mlready check-drift`: it compares every recorded package version.",
        )
    latest = runs[-1]
    evidence = [_run_ev(ev, latest, "environment check", "drift.json")]
    changed = "environment" in (latest.summary.get("events") or [])
    detail = f"{_n(len(runs), 'check')} compared the packages."
    if changed:
        return Check(
            FAILING,
            f"The installed packages differ from training's (check-drift {latest.run_id}). "
            + detail,
            runs,
            evidence,
            "Retrain with the installed packages, or pin the versions the model was trained "
            "with (the drift report lists them).",
        )
    return Check(PASSING, "No package differs from training's. " + detail, runs, evidence)


@check("monitor-2")
def _monitor_2(ev: Evidence) -> Check:
    served = [r for r in _cold(ev.step("serve-batch")) if "rows_rejected" in r.summary]
    validated = [r for r in ev.step("validate-data") if r.summary.get("environment") == "serving"]
    runs = sorted([*served, *validated], key=lambda r: r.started_at)
    if not runs:
        return _not_done(
            "No serving input has been checked.",
            "Run `mlready validate-data --data BATCH` or `mlready serve-batch`: both check the "
            "serving expectations.",
        )
    latest = _newest_batch(ev, runs, lambda r: _input_key(ev, r.summary.get("source")))
    stale = _stale_note(latest, runs[-1], "check")
    evidence = [
        _run_ev(ev, r, "serving checks", "validation.json" if r.step == "validate-data" else "")
        for r in runs[-3:]
    ]
    bad = [
        r
        for r in runs
        if r.summary.get("rows_rejected")
        or (r.step == "validate-data" and not r.summary.get("passed", True))
    ]
    detail = (
        f"{_n(len(runs), 'serving input')} checked; {len(bad)} broke the contract. The "
        "newest batch decides (a batch is as new as the first time it was served or checked)."
        + stale
    )
    s = latest.summary
    broken = bool(s.get("rows_rejected")) or (
        latest.step == "validate-data" and not s.get("passed", True)
    )
    if broken:
        what = (
            f"{_n(s['rows_rejected'], 'row')} rejected"
            if s.get("rows_rejected")
            else f"{_n(s.get('failed', 0), 'check')} failed"
        )
        return Check(
            FAILING,
            f"The newest batch ({latest.step} {latest.run_id}): {what}. " + detail,
            runs,
            evidence,
            "Read the rejected rows' reasons and fix the data at its source.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("monitor-3")
def _monitor_3(ev: Evidence) -> Check:
    latest, runs = _latest_train(ev, lambda m: m.get("skew") is not None)
    if latest is None:
        return _not_done(
            "No training run has put its rows through serving's reader and contract.",
            "Run `mlready train`: it compares the feature values training and serving compute "
            "for a sample of the training rows.",
        )
    record, metadata = latest
    skew = metadata["skew"]
    evidence = [_run_ev(ev, record, "training/serving skew", "metadata.json")]
    detail = (
        f"train {record.run_id} put {skew['rows']:,} training rows through serving's reader: "
        f"{skew['mismatched_rows']:,} gave other feature values"
        + (f" ({', '.join(skew['columns'][:5])})" if skew["columns"] else "")
        + "."
    )
    if skew.get("error"):
        detail = f"train {record.run_id}: serving cannot read the training data ({skew['error']})."
    drifts = [r for r in ev.step("check-drift") if "dataset_drift" in r.summary]
    judged = None
    if drifts:
        served = {r.run_id: r for r in ev.step("serve-batch")}

        def batch(r: RunRecord) -> str | None:
            current = r.summary.get("current") or {}
            run = served.get(str(current.get("serve_run")))
            if run is not None:
                return _input_key(ev, run.summary.get("source")) or f"run {run.run_id}"
            if current.get("serve_run"):
                return f"run {current['serve_run']}"
            return _input_key(ev, current.get("source"))

        judged = _newest_batch(ev, drifts, batch)
        s = judged.summary
        evidence.append(_run_ev(ev, judged, "drift report", "drift.html"))
        detail += (
            f" check-drift {judged.run_id}, on the newest batch checked, found "
            f"{len(s.get('drifted') or [])} of {_n(s.get('features', 0), 'served feature')} "
            "drifted "
            f"({s.get('share_drifted', 0):.0%})."
            + _stale_note(judged, drifts[-1], "drift check")
            + _rule_for(ev, "dataset_drift")
        )
    if not skew["passed"]:
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Make both readers see the same values: quote codes with leading zeros, write "
            "booleans and numbers consistently, or store the training data as Parquet.",
        )
    if judged is not None and judged.summary["dataset_drift"]:
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Open the drift report; if the inputs changed for good, retrain on recent data.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("monitor-4")
def _monitor_4(ev: Evidence) -> Check:
    limit = ev.spec.monitoring.max_model_age_days
    runs = [r for r in ev.step("check-drift") if r.summary.get("model_age_days") is not None]
    if limit is None:
        return _not_done(
            "monitoring.max_model_age_days is not set: no age is too old.",
            "Set monitoring.max_model_age_days (how long the model stays good enough).",
        )
    if not runs:
        return _not_done(
            f"The age limit is {limit:g} days; no check has measured the model's age.",
            "Run `mlready check-drift`.",
        )
    latest = runs[-1]
    age = latest.summary["model_age_days"]
    evidence = [_run_ev(ev, latest, "model age", "drift.json")]
    detail = (
        f"The model was {age:.1f} days old at check-drift {latest.run_id}; the limit is {limit:g}."
    )
    if age > limit:
        return Check(
            FAILING, detail, runs, evidence, "Retrain on recent data and promote the new model."
        )
    return Check(PASSING, detail, runs, evidence)


@check("monitor-5")
def _monitor_5(ev: Evidence) -> Check:
    runs = [
        r for r in _cold(ev.step("serve-batch")) if r.summary.get("nan_predictions") is not None
    ]
    if not runs:
        return _not_done(
            "No batch has been scored yet.",
            "Run `mlready serve-batch`: it refuses NaN or infinite predictions.",
        )
    latest = runs[-1]
    count = latest.summary["nan_predictions"]
    evidence = [_run_ev(ev, latest, "NaN guard")]
    detail = f"{_n(len(runs), 'scoring run')} checked every prediction for NaN or infinity."
    if count:
        return Check(
            FAILING,
            detail + f" serve-batch {latest.run_id} found {count:,}.",
            runs,
            evidence,
            "Find the inputs that produce them (the run.log names the rows); fix the model or "
            "the data's range.",
        )
    return Check(PASSING, detail + " None in the latest.", runs, evidence)


def _sla_runs(ev: Evidence) -> list[RunRecord]:
    """Scoring runs timed against a budget; a batch answered from the cache timed nothing."""
    return [
        r for r in _cold(ev.step("serve-batch")) if (r.summary.get("sla") or {}).get("budget_s")
    ]


def _served_runs(ev: Evidence) -> list[RunRecord]:
    """`mlready serve` runs that answered /predict under a latency budget and judged at least
    one window against it (their availability and latency, from the run log)."""
    out = []
    for r in ev.step("serve"):
        sla = r.summary.get("sla") or {}
        if r.summary.get("predict_requests") and sla.get("p99_ms") and sla.get("windows"):
            out.append(r)
    return out


def _monitor_6_served(ev: Evidence, runs: list[RunRecord], latest: RunRecord) -> Check:
    """monitor-6 when the latest measured run is a server's."""
    s = latest.summary
    sla = s["sla"]
    availability = s.get("availability")
    p99 = (s.get("latency_ms") or {}).get("p99")
    evidence = [_run_ev(ev, r, "availability and latency") for r in runs[-3:]]
    detail = (
        f"{_n(len(runs), 'run')} measured; the latest (serve {latest.run_id}) answered "
        f"{_n(int(s['predict_requests']), 'prediction request')}, available "
        f"{(availability if availability is not None else 1):.3%}, p99 "
        + (f"{p99:,.1f} ms" if p99 is not None else "unknown")
        + f" against a {sla['p99_ms']:g} ms budget, {sla['breaches']} of "
        f"{_n(int(sla['windows']), 'window')} over it."
    )
    if sla.get("breaches") or (availability is not None and availability < AVAILABILITY_FLOOR):
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Read the server's run.log and /metrics: more --workers, a smaller model, or a "
            "budget (serving.realtime.p99_ms) the machine can keep.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("monitor-6")
def _monitor_6(ev: Evidence) -> Check:
    batch = _sla_runs(ev)
    served = _served_runs(ev)
    runs = sorted(batch + served, key=_ended)
    if not runs:
        return _not_done(
            "No scoring run has been measured against a budget (a batch answered from the "
            "cache measures nothing).",
            "Set serving.sla and run `mlready serve-batch`, or serving.realtime.p99_ms and "
            "`mlready serve`: every run records its time (or latency), throughput and memory.",
        )
    if runs[-1].step == "serve":
        return _monitor_6_served(ev, runs, runs[-1])
    runs = batch
    latest = runs[-1]
    sla = latest.summary["sla"]
    evidence = [_run_ev(ev, r, "run time") for r in runs[-3:]]
    detail = (
        f"{_n(len(runs), 'run')} measured (cached batches left out); the latest took "
        f"{sla['wall_s']:.1f} s of a "
        f"{sla['budget_s']:.0f} s budget ({sla.get('rows_per_s') or 0:,.0f} rows/s, "
        f"{sla.get('peak_memory_mb') or 0:,.0f} MB)."
    )
    if not sla.get("met", True):
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Find the slow chunks in the run.log; raise serving.chunk_rows or use --engine dask.",
        )

    def timed(r: RunRecord) -> bool:
        return bool((r.summary.get("sla") or {}).get("rows_per_s"))

    earlier = [r.summary["sla"]["rows_per_s"] for r in runs[:-1] if timed(r)]
    if timed(latest) and len(earlier) >= 3:
        median = statistics.median(earlier)
        now = sla["rows_per_s"]
        if now < THROUGHPUT_FLOOR * median:
            return Check(
                FAILING,
                detail + f" Throughput fell to {now / median:.0%} of the earlier median.",
                runs,
                evidence,
                "Compare the run.log with an earlier run's: a bigger model, a slower source or "
                "a busy machine.",
            )
    return Check(PASSING, detail, runs, evidence)


@check("monitor-7")
def _monitor_7(ev: Evidence) -> Check:
    runs = ev.step("check-drift")
    if not runs:
        return _not_done(
            "Served predictions have not been compared with training's.",
            "Run `mlready check-drift` after each batch, with --outcomes when they are known.",
        )
    latest = runs[-1]
    s = latest.summary
    events = s.get("events") or []
    evidence = [_run_ev(ev, latest, "prediction drift", "drift.json")]
    labelled = len(_with_outcomes(ev))
    detail = (
        f"{_n(len(runs), 'check')} of the served scores ({labelled} with outcomes); the latest "
        f"(check-drift {latest.run_id}) found "
        + ("a prediction drift" if s.get("prediction_drift") else "no prediction drift")
        + (" and a performance drop" if "performance_drop" in events else "")
        + "."
    )
    if s.get("prediction_drift") or "performance_drop" in events:
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "Open the drift report: a changed score distribution means the model sees a "
            "different world; check realized performance with --outcomes.",
        )
    return Check(PASSING, detail, runs, evidence)


#: The events whose alert rules tell someone that a monitoring check failed (monitor-5 needs
#: none: serve-batch itself fails and writes nothing).
ALERT_EVENTS: dict[str, tuple[str, ...]] = {
    "monitor-1": ("environment",),
    "monitor-2": ("data_invalid",),
    "monitor-3": ("dataset_drift", "feature_drift"),
    "monitor-4": ("model_age",),
    "monitor-6": ("sla_breach",),
    "monitor-7": ("performance_drop", "prediction_drift"),
}


def _told(key: str, events: tuple[str, ...]) -> None:
    inner = CHECKS[key]

    def judged(ev: Evidence) -> Check:
        return _alerted(ev, inner(ev), *events)

    judged.__name__ = inner.__name__
    CHECKS[key] = judged


for _key, _events in ALERT_EVENTS.items():
    _told(_key, _events)


# ------------------------------------------------------------------------------------ business


def trained_value(record: RunRecord, metadata: dict[str, Any]) -> float | None:
    """The business value training reported: a classifier's at the chosen threshold, a
    regressor's as minus the cost of its errors (both cross-validated)."""
    value = record.summary.get("business_value")
    business = metadata.get("business") or {}
    if value is None:
        best = (business.get("cv") or {}).get("best_threshold") or {}
        value = best.get("value", business.get("cv_value"))
    return float(value) if isinstance(value, (int, float)) else None


def _measured(metadata: dict[str, Any]) -> bool:
    """A training run that priced its predictions (a threshold, or a regressor's error cost)."""
    business = metadata.get("business") or {}
    return business.get("decision_threshold") is not None or business.get("cv_value") is not None


def realized_business(ev: Evidence) -> tuple[RunRecord, dict[str, Any]] | None:
    """The newest business value realized on served data (check-drift --outcomes on
    MIN_SLICE_ROWS labelled rows or more)."""
    for record in reversed(_enough_outcomes(ev)):
        report = ev.run_json(record, "drift.json") or {}
        business = (report.get("performance") or {}).get("business")
        if business and business.get("value") is not None:
            return record, business
    return None


@check("business-1")
def _business_1(ev: Evidence) -> Check:
    if ev.spec.business is None:
        return _not_done(
            "The spec has no business section: no one knows what a prediction is worth.",
            "Price each outcome (true/false positive/negative) under business, or the cost of "
            "a unit of error (business.cost_per_unit_error) for a regressor; train then "
            "reports the value.",
        )
    latest, runs = _latest_train(ev, _measured)
    if latest is None:
        return _not_done(
            "The business metric is defined but no training run has measured it.",
            "Run `mlready train`.",
        )
    record, metadata = latest
    business = metadata.get("business") or {}
    value = trained_value(record, metadata)
    currency = ev.spec.business.currency
    evidence = [_run_ev(ev, record, "business value", "metadata.json")]
    regression = business.get("decision_threshold") is None
    gain = business.get("gain_over_baseline") if regression else value
    if regression:
        detail = (
            f"Cost of the errors: {_fmt(value, 0)} {currency}, against "
            f"{_fmt(business.get('baseline_value'), 0)} {currency} with no model (every row "
            f"the median): the model saves {_fmt(gain, 0)} {currency} (train {record.run_id})"
        )
    else:
        detail = (
            f"Value at the chosen threshold: {value or 0:,.0f} {currency} (train {record.run_id})"
        )
    realized = realized_business(ev)
    if realized is not None:
        drift_run, realized_value = realized
        detail += (
            f"; realized on served data: {realized_value['value']:,.0f} {currency} "
            f"(check-drift {drift_run.run_id})"
        )
        evidence.append(_run_ev(ev, drift_run, "realized value", "drift.json"))
    detail += "."
    if value is None or gain is None:
        return Check(
            FAILING,
            detail.replace(f"{0:,.0f} {currency}", "not recorded"),
            runs,
            evidence,
            "Train again: the training run recorded no business value.",
        )
    negative = gain <= 0 or (realized is not None and realized[1]["value"] <= 0)
    if negative:
        return Check(
            FAILING,
            detail,
            runs,
            evidence,
            "The model loses money as used: revisit the decision threshold and the business "
            "amounts with the stakeholder, or do not serve it."
            if not regression
            else "The model's errors cost as much as no model: improve it or do not serve it.",
        )
    return Check(PASSING, detail, runs, evidence)


@check("business-2")
def _business_2(ev: Evidence) -> Check:
    sla = ev.spec.serving.sla if ev.spec.serving else None
    if sla is None:
        return _not_done(
            "No SLA in the spec: nobody has said when predictions are due.",
            "Agree the output period and run-time budget with the team that uses the "
            "predictions; write them under serving.sla.",
        )
    runs = _sla_runs(ev)
    if not runs:
        return _not_done(
            f"The SLA (every {_duration(sla.output_period)}, budget {_duration(sla.budget)}) has "
            "not been measured (a batch answered from the cache measures nothing).",
            "Run `mlready serve-batch`.",
        )
    met = sum(1 for r in runs if r.summary["sla"].get("met", True))
    latest = runs[-1]
    evidence = [_run_ev(ev, r, "SLA", "") for r in runs[-3:]]
    detail = (
        f"Output every {_duration(sla.output_period)}, budget {_duration(sla.budget)}; {met} of "
        f"{_n(len(runs), 'run')} "
        "met it (batches answered from the cache left out)." + _rule_for(ev, "sla_breach")
    )
    if not latest.summary["sla"].get("met", True):
        return Check(
            FAILING,
            detail + f" The latest (serve-batch {latest.run_id}) missed it.",
            runs,
            evidence,
            "Speed the batch up (chunk size, --engine dask) or agree a new budget.",
        )
    return Check(PASSING, detail, runs, evidence)
