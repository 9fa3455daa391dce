"""The drift report: one self-contained HTML page (inline CSS and SVG)."""

from __future__ import annotations

from typing import Any

from mlready.reporting import render


def chart_order(result: Any) -> list[dict[str, Any]]:
    """Every feature and prediction the check compared: the drifted ones first, then the
    rest; each group by how far it moved (PSI, largest first)."""
    rows = [*result.features, *result.predictions]

    def key(row: dict[str, Any]) -> tuple[int, float, str]:
        psi = row.get("psi")
        return (0 if row.get("drifted") else 1, -(psi if psi is not None else -1.0), row["column"])

    return sorted(rows, key=key)


def render_drift_report(
    result: Any,
    reference: dict[str, Any],
    current: dict[str, Any],
    history: list[tuple[str, float]],
    *,
    project: str,
    run_id: str,
) -> str:
    """The HTML report of one check-drift run: a chart for every feature, drifted first."""
    from markupsafe import Markup

    from mlready import charts

    drawn = []
    ref_columns = reference.get("columns") or {}
    cur_columns = current.get("columns") or {}
    ref_predictions = reference.get("prediction") or {}
    cur_predictions = current.get("prediction") or {}
    for row in chart_order(result):
        name = row["column"]
        if name.startswith("prediction.") and name not in ref_columns:
            key = name.split(".", 1)[1]
            ref, cur = ref_predictions.get(key), cur_predictions.get(key)
        else:
            ref, cur = ref_columns.get(name), cur_columns.get(name)
        if ref and cur:
            svg = charts.bin_shares(ref, cur, name, drifted=bool(row.get("drifted")))
            drawn.append({"column": name, "drifted": bool(row.get("drifted")), "svg": Markup(svg)})
    figures: dict[str, Any] = {
        "features": drawn,
        "anchors": {c["column"]: f"chart-{n}" for n, c in enumerate(drawn, 1)},
    }
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
