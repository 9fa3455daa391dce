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
    out.update(_curve_charts(m.get("validation", {}).get("curves") or {}, m.get("classes") or []))
    return out


def _curve_charts(c: dict[str, Any], classes: list[str]) -> dict[str, Any]:
    """The curves' charts (SVG), by name: roc, pr, calibration, confusion, residuals."""
    from markupsafe import Markup

    from mlready import charts

    out: dict[str, Any] = {}
    kind = c.get("kind")
    if kind == "regression":
        r = c["residuals"]
        out["residuals"] = Markup(charts.residuals(r["prediction"], r["residual"], r["bins"]))
        return out
    if kind not in ("binary", "multiclass"):
        return out
    if kind == "binary":
        point = c["operating_point"]
        at = f"threshold {c['threshold']:.3g}"
        positive = classes[1] if len(classes) == 2 else "positive"
        if "roc" in c:
            marks = [(point["fpr"], point["tpr"], at)] if point["fpr"] is not None else []
            out["roc"] = Markup(
                charts.curves(
                    [(f"model (AUC {c['roc']['auc']:.3f})", c["roc"]["fpr"], c["roc"]["tpr"])],
                    title="ROC curve",
                    xlabel="false positive rate",
                    ylabel=f"true positive rate (recall of {positive})",
                    reference=([0, 1], [0, 1], "chance"),
                    marks=[m for m in marks if m[1] is not None],
                )
            )
            pr = c["pr"]
            marks = (
                [(point["tpr"], point["precision"], at)]
                if point["tpr"] is not None and point["precision"] is not None
                else []
            )
            out["pr"] = Markup(
                charts.curves(
                    [(f"model (AP {pr['average_precision']:.3f})", pr["recall"], pr["precision"])],
                    title="Precision-recall curve",
                    xlabel=f"recall of {positive}",
                    ylabel="precision",
                    reference=(
                        [0, 1],
                        [pr["positive_rate"]] * 2,
                        f"base rate {pr['positive_rate']:.1%}",
                    ),
                    marks=marks,
                    steps=True,
                )
            )
        if c.get("calibration"):
            cal = c["calibration"]
            out["calibration"] = Markup(
                charts.reliability(cal["predicted"], cal["observed"], cal["rows"])
            )
        title = f"at threshold {c['threshold']:.3g}"
    else:
        per_class = c.get("per_class") or []
        if per_class:
            out["roc"] = Markup(
                charts.curves(
                    [
                        (f"{p['class']} ({p['roc']['auc']:.3f})", p["roc"]["fpr"], p["roc"]["tpr"])
                        for p in per_class
                    ],
                    title="ROC, each class against the rest (AUC)",
                    xlabel="false positive rate",
                    ylabel="true positive rate",
                    reference=([0, 1], [0, 1], "chance"),
                )
            )
            out["pr"] = Markup(
                charts.curves(
                    [
                        (
                            f"{p['class']} ({p['pr']['average_precision']:.3f})",
                            p["pr"]["recall"],
                            p["pr"]["precision"],
                        )
                        for p in per_class
                    ],
                    title="Precision-recall, each class against the rest (AP)",
                    xlabel="recall",
                    ylabel="precision",
                    steps=True,
                )
            )
        title = "(the most probable class)"
    out["confusion"] = Markup(
        charts.confusion(c["confusion"]["matrix"], c["confusion"]["classes"], title)
    )
    return out


#: The phases of metadata.json's timings, as the report names them.
PHASE_NAMES = {
    "read": "reading the training data",
    "validate": "validating it against the contract",
    "leakage": "leakage checks",
    "search": "hyperparameter search",
    "fits": "cross-validation, final fit and baselines",
    "analysis": "holdout, slices, curves and business value",
    "importance": "feature contribution (holdout)",
    "reproducibility": "training again (reproducibility)",
    "skew": "training rows through serving's reader",
    "profile": "reference profile",
}


def render_training_report(metadata: dict[str, Any]) -> str:
    """The HTML report of one training run."""
    return render("training.html.j2", m=metadata, charts=_charts(metadata), phase_names=PHASE_NAMES)
