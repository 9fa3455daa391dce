"""The site's pages as HTML, drawn from :class:`~mlready.site.gather.SiteData`: the overview,
the runs, readiness, the registry, data checks, drift and alerts. Every link is relative to
the site's folder, so the pages work opened from disk, as a CI artifact or on a static host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlready.site.gather import SiteData, readable_time

__all__ = ["PAGES", "render_pages"]

#: Each page: its file, its title in the navigation.
PAGES = {
    "index.html": "Overview",
    "runs.html": "Runs",
    "readiness.html": "Readiness",
    "registry.html": "Registry",
    "data.html": "Data checks",
    "drift.html": "Drift",
    "alerts.html": "Alerts",
    "changes.html": "Changes",
}


class _Links:
    """Relative links from the site's folder to files under the artifacts (or anywhere)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, target: Path | str | None) -> str | None:
        from mlready.reporting import relative_href

        if target is None or not Path(target).is_file():
            return None
        return relative_href(target, self.folder)


def _labels(started: list[Any]) -> list[str]:
    """Charts' labels for runs: day and time (UTC) to the minute, to the second when two runs
    share a minute."""
    import datetime as dt

    def moment(value: Any) -> dt.datetime | None:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return parsed.astimezone(dt.timezone.utc) if parsed.tzinfo else parsed

    moments = [moment(v) for v in started]
    minutes = [f"{m:%m-%d %H:%M}" if m else str(v) for m, v in zip(moments, started, strict=True)]
    if len(set(minutes)) == len(minutes):
        return minutes
    return [f"{m:%m-%d %H:%M:%S}" if m else str(v) for m, v in zip(moments, started, strict=True)]


def _charts(data: SiteData) -> dict[str, Any]:
    from markupsafe import Markup

    from mlready import charts

    out: dict[str, Any] = {"scores": None, "checks": None, "drift": None}
    if data.scores:
        bar = data.scores[-1]["pass_bar"]
        out["scores"] = Markup(
            charts.score_history(
                _labels([s["started_at"] for s in data.scores]),
                [float(s["score"]) for s in data.scores],
                [
                    s["in_place"] if isinstance(s["in_place"], int | float) else None
                    for s in data.scores
                ],
                bar if isinstance(bar, int | float) else None,
            )
        )
    checked = [v for v in data.validations if isinstance(v["checks"], int)]
    if checked:
        failed = [v["failed"] if isinstance(v["failed"], int) else 0 for v in checked]
        out["checks"] = Markup(
            charts.checks_history(
                [
                    f"{label} {v['environment'] or ''}".strip()
                    for label, v in zip(
                        _labels([v["started_at"] for v in checked]), checked, strict=True
                    )
                ],
                [v["checks"] - f for v, f in zip(checked, failed, strict=True)],
                failed,
            )
        )
    shares = [d for d in data.drift if isinstance(d["share"], int | float)]
    if shares:
        bars = [d["bar"] for d in data.drift if isinstance(d["bar"], int | float)]
        out["drift"] = Markup(
            charts.history(
                _labels([d["started_at"] for d in shares]),
                [float(d["share"]) for d in shares],
                bars[-1] if bars else 0.5,
            )
        )
    return out


def _drift_table(data: SiteData) -> dict[str, Any]:
    """Features down, the newest drift checks across: each cell the feature's PSI in that
    check, red where the check's test called it drifted. Features drifted in the newest check
    come first, then those that drifted most often."""
    checks = [d for d in data.drift if d["features"] is not None]
    names: dict[str, None] = {}
    for check in checks:
        for name in check["features"]:
            names.setdefault(name, None)
    newest = checks[-1]["features"] if checks else {}

    def times_drifted(name: str) -> int:
        return sum(1 for c in checks if (c["features"].get(name) or {}).get("drifted"))

    order = sorted(
        names,
        key=lambda n: (
            not (newest.get(n) or {}).get("drifted"),
            -times_drifted(n),
            n.startswith("prediction."),
            n,
        ),
    )
    rows = []
    for name in order:
        cells = []
        for check in checks:
            found = check["features"].get(name)
            cells.append(found)
        rows.append({"name": name, "cells": cells, "drifted": times_drifted(name)})
    return {"checks": checks, "rows": rows}


def render_pages(data: SiteData, folder: Path) -> dict[str, str]:
    """Every page of the site, by file name."""
    from mlready.checklist.report import evidence_target
    from mlready.reporting import render

    link = _Links(folder)
    readiness = data.readiness
    evidence: dict[str, list[str | None]] = {}
    if readiness:
        for item in readiness.get("items") or []:
            evidence[item["id"]] = [
                link(evidence_target(e, data.base_dir)) for e in item.get("evidence") or []
            ]
    latest: dict[str, Any] = {}
    for step, rows in data.by_command().items():
        latest[step] = rows[0]
    registry = data.registry
    production = getattr(registry, "production", None)
    from mlready.history import shown

    context = {
        "shown": shown,
        "when": readable_time,
        "d": data,
        "pages": PAGES,
        "link": link,
        "charts": _charts(data),
        "latest": latest,
        "commands": data.by_command(),
        "readiness": readiness,
        "evidence": evidence,
        "production": production,
        "production_run": data.run(getattr(production, "run_id", None)),
        "drift_table": _drift_table(data),
        "log_link": link(data.log_path),
        "undelivered": [a for a in data.alerts if not a.get("delivered")],
    }
    return {
        name: render(f"site/{name}.j2", generated_at=data.generated_at, page=name, **context)
        for name in PAGES
    }
