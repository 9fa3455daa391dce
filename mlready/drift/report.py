"""The drift report: one self-contained HTML page (inline CSS and SVG)."""

from __future__ import annotations

from typing import Any

from mlready.reporting import render

#: Charts for at most this many drifted features (the table lists them all).
MAX_CHARTS = 12


def render_drift_report(
    result: Any,
    reference: dict[str, Any],
    current: dict[str, Any],
    history: list[tuple[str, float]],
    *,
    project: str,
    run_id: str,
) -> str:
    """The HTML report of one check-drift run."""
    from markupsafe import Markup

    from mlready import charts

    drawn = []
    ref_columns = reference.get("columns") or {}
    cur_columns = current.get("columns") or {}
    for name in result.drifted[:MAX_CHARTS]:
        if name in ref_columns and name in cur_columns:
            drawn.append(Markup(charts.distribution(ref_columns[name], cur_columns[name], name)))
    for item in result.predictions:
        if item["drifted"]:
            key = item["column"].split(".", 1)[1]
            ref = (reference.get("prediction") or {}).get(key)
            cur = (current.get("prediction") or {}).get(key)
            if ref and cur:
                drawn.append(Markup(charts.distribution(ref, cur, item["column"])))
    figures: dict[str, Any] = {"drifted": drawn}
    if len(history) > 1:
        figures["history"] = Markup(
            charts.history(
                [h[0] for h in history], [h[1] for h in history], result.dataset_drift_share
            )
        )
    return render("drift.html.j2", r=result, charts=figures, project=project, run_id=run_id)


def history(artifacts: Any, run_id: str, share: float, keep: int = 20) -> list[tuple[str, float]]:
    """The share of drifted features of the last checks in the run log, then this one's."""
    from mlready.runs import read_run_log

    earlier = [
        (r.run_id[:15], float(r.summary.get("share_drifted", 0.0)))
        for r in read_run_log(artifacts, "check-drift")
        if r.status in ("passed", "failed") and "share_drifted" in (r.summary or {})
    ]
    return [*earlier[-(keep - 1) :], (run_id[:15], share)]


def write_outputs(result: Any, run_dir: Any, run_id: str, artifacts: Any, project: str) -> None:
    """drift.json and drift.html in the run folder."""
    from pathlib import Path

    from mlready.io import atomic_write_json, atomic_write_text

    folder = Path(run_dir)
    atomic_write_json(folder / "drift.json", result.to_dict())
    reference, current = result.profiles
    atomic_write_text(
        folder / "drift.html",
        render_drift_report(
            result,
            reference,
            current,
            history(artifacts, run_id, result.share_drifted),
            project=project,
            run_id=run_id,
        ),
    )
