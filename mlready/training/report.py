"""The training report: one self-contained HTML page rendered from metadata.json."""

from __future__ import annotations

from typing import Any

from mlready.reporting import render


def _charts(m: dict[str, Any]) -> dict[str, Any]:
    from markupsafe import Markup

    from mlready import charts

    validation = m["validation"]
    bars = {t["metric"]: t["bar"] for t in validation["thresholds"]}
    holdout = validation["holdout_metrics"] or {}
    rows = [
        {
            "metric": name,
            "folds": [f["metrics"].get(name) for f in validation["per_fold"]],
            "mean": validation["cv"][name]["mean"],
            "holdout": holdout.get(name),
            "bar": bars.get(name),
        }
        for name in validation["metrics"]
    ]
    out: dict[str, Any] = {"metrics": Markup(charts.metric_panels(rows))}
    business = m.get("business") or {}
    if "cv" in business:
        cv = business["cv"]
        marks = [
            (
                cv["default_threshold"]["threshold"],
                cv["default_threshold"]["value"],
                f"default {cv['default_threshold']['threshold']:g}",
            ),
            (
                cv["best_threshold"]["threshold"],
                cv["best_threshold"]["value"],
                f"best {cv['best_threshold']['threshold']:.3f}",
            ),
        ]
        out["value"] = Markup(charts.value_curve(cv["curve"], marks, business["currency"]))
    contribution = m.get("feature_contribution") or []
    if contribution:
        shown = contribution[:25]
        out["importance"] = Markup(
            charts.horizontal_bars(
                [c["feature"] for c in shown],
                [c["importance"] for c in shown],
                [c["std"] for c in shown],
                [c["adds_nothing"] for c in shown],
                xlabel=f"drop in {validation['primary_metric']} when the feature is shuffled",
            )
        )
    return out


#: The phases of metadata.json's timings, as the report names them.
PHASE_NAMES = {
    "read": "reading the training data",
    "validate": "validating it against the contract",
    "leakage": "leakage checks",
    "search": "hyperparameter search",
    "fits": "cross-validation, final fit and baselines",
    "analysis": "holdout, slices and business value",
    "importance": "feature contribution (holdout)",
    "reproducibility": "training again (reproducibility)",
    "skew": "training rows through serving's reader",
    "profile": "reference profile",
}


def render_training_report(metadata: dict[str, Any]) -> str:
    """The HTML report of one training run."""
    return render("training.html.j2", m=metadata, charts=_charts(metadata), phase_names=PHASE_NAMES)
