"""Charts for the HTML reports: matplotlib figures rendered to inline SVG (text kept as text).

Every function returns an ``<svg>`` string ready to embed; nothing is fetched or scripted.
Labels are data (feature names, slice values): '$' is escaped so matplotlib never reads them as
maths, and the SVG writer escapes markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

INK = "#1f2933"
MUTED = "#9aa5b1"
OK = "#1b7f3b"
BAD = "#b42318"
ACCENT = "#2563eb"


def _label(text: Any) -> str:
    return str(text).replace("$", r"\$")


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "mlready",
            "font.family": "sans-serif",
            "font.size": 9,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_svg(figure: Any) -> str:
    """The figure as an <svg> element without the XML prolog."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def metric_panels(rows: Sequence[dict[str, Any]]) -> str:
    """One small panel per metric: fold values (dots), their mean (bar), the holdout (diamond),
    the threshold (red line).

    ``rows``: dicts with metric, folds (list), mean, holdout (or None), bar (or None).
    """
    count = max(len(rows), 1)
    figure = _figure(min(2.2 * count, 10), 2.4)
    axes = figure.subplots(1, count, squeeze=False)[0]
    for ax, row in zip(axes, rows, strict=False):
        folds = [v for v in row["folds"] if v is not None]
        if row.get("mean") is not None:
            ax.bar([0], [row["mean"]], width=0.5, color="#dbeafe", edgecolor=ACCENT)
        ax.scatter([0] * len(folds), folds, color=INK, s=12, zorder=3, label="fold")
        if row.get("holdout") is not None:
            ax.scatter([0.45], [row["holdout"]], marker="D", color=ACCENT, s=28, zorder=3)
        if row.get("bar") is not None:
            ax.axhline(row["bar"], color=BAD, linewidth=1.2, linestyle="--")
        ax.set_xticks([])
        ax.set_xlim(-0.6, 0.8)
        ax.set_title(_label(row["metric"]), fontsize=9)
        values = [*folds, row.get("holdout"), row.get("bar"), row.get("mean")]
        finite = [v for v in values if v is not None]
        if finite:
            low, high = min(finite), max(finite)
            pad = max((high - low) * 0.25, 0.02)
            ax.set_ylim(max(low - pad, 0) if low >= 0 else low - pad, high + pad)
    return to_svg(figure)


def value_curve(
    points: Sequence[tuple[float, float]],
    marks: Sequence[tuple[float, float, str]],
    currency: str,
) -> str:
    """Business value against the decision threshold, with labelled marks."""
    figure = _figure(7, 2.8)
    ax = figure.subplots()
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    ax.plot(xs, ys, color=ACCENT, linewidth=1.6)
    ax.axhline(0, color=MUTED, linewidth=0.8)
    for x, y, label in marks:
        ax.scatter([x], [y], color=INK, s=18, zorder=3)
        ax.annotate(_label(label), (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xlabel("decision threshold (positive when the score is at least this)")
    ax.set_ylabel(_label(f"value ({currency})"))
    ax.set_xlim(min(xs, default=0.0), max(xs, default=1.0))
    return to_svg(figure)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    errors: Sequence[float] | None = None,
    muted: Sequence[bool] | None = None,
    xlabel: str = "",
) -> str:
    """Horizontal bars, largest on top; muted bars are grey."""
    count = max(len(labels), 1)
    figure = _figure(7, 0.6 + 0.24 * count)
    ax = figure.subplots()
    positions = list(range(count))[::-1]
    colours = [MUTED if muted and muted[i] else ACCENT for i in range(len(labels))]
    ax.barh(positions[: len(labels)], values, xerr=errors, color=colours, ecolor=INK, capsize=2)
    ax.set_yticks(positions[: len(labels)], [_label(x) for x in labels])
    ax.axvline(0, color=MUTED, linewidth=0.8)
    ax.set_xlabel(_label(xlabel))
    return to_svg(figure)


def distribution(reference: dict[str, Any], current: dict[str, Any], title: str) -> str:
    """Reference against current: shares per reference bin (numeric) or per category."""
    import numpy as np

    figure = _figure(4.6, 2.3)
    ax = figure.subplots()
    if reference.get("kind") == "numeric" and reference.get("cuts") is not None:
        cuts = list(reference.get("cuts") or [])
        ref = np.asarray(reference.get("counts") or [0], dtype=float)
        cur = np.asarray(current.get("counts") or [0] * len(ref), dtype=float)
        low = min(reference.get("min", 0.0), current.get("min", reference.get("min", 0.0)))
        high = max(reference.get("max", 1.0), current.get("max", reference.get("max", 1.0)))
        edges = np.asarray([low, *cuts, high], dtype=float)
        widths = np.maximum(np.diff(edges), 1e-12)
        for counts, colour, label in ((ref, MUTED, "reference"), (cur, ACCENT, "current")):
            share = counts / counts.sum() if counts.sum() else counts
            ax.stairs(
                share / widths,
                edges,
                color=colour,
                linewidth=1.6,
                label=label,
                fill=label == "reference",
                alpha=0.5 if label == "reference" else 1.0,
            )
        ax.set_ylabel("density")
    else:
        ref_counts = dict(reference.get("categories") or reference.get("value_counts") or {})
        cur_counts = dict(current.get("categories") or current.get("value_counts") or {})
        names = sorted(set(ref_counts) | set(cur_counts), key=lambda k: -ref_counts.get(k, 0))
        names = names[:12]
        rt, ct = sum(ref_counts.values()) or 1, sum(cur_counts.values()) or 1
        positions = np.arange(len(names))
        ax.bar(
            positions - 0.2,
            [ref_counts.get(n, 0) / rt for n in names],
            0.4,
            color=MUTED,
            label="reference",
        )
        ax.bar(
            positions + 0.2,
            [cur_counts.get(n, 0) / ct for n in names],
            0.4,
            color=ACCENT,
            label="current",
        )
        ax.set_xticks(positions, [_label(n)[:14] for n in names], rotation=30, ha="right")
        ax.set_ylabel("share")
    ax.set_title(_label(title), fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return to_svg(figure)


def history(labels: Sequence[str], shares: Sequence[float], bar: float) -> str:
    """The share of drifted features per check, oldest first, with the dataset-drift bar."""
    figure = _figure(7, 2.3)
    ax = figure.subplots()
    positions = list(range(len(labels)))
    colours = [BAD if s >= bar else OK for s in shares]
    ax.bar(positions, shares, color=colours)
    ax.axhline(bar, color=BAD, linestyle="--", linewidth=1.1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("features drifted")
    ax.set_xticks(positions, [_label(x) for x in labels], rotation=20, ha="right", fontsize=7)
    return to_svg(figure)


def section_scores(
    titles: Sequence[str], scaled: Sequence[float], final: float, pass_bar: float
) -> str:
    """Each section's score on the 0-7 scale, the weakest in red, with the band boundaries
    (1, 2, 3, 5) as grey lines and the pass bar as a dashed red line."""
    count = max(len(titles), 1)
    figure = _figure(7, 0.7 + 0.34 * count)
    ax = figure.subplots()
    positions = list(range(count))[::-1]
    colours = [BAD if abs(v - final) < 1e-9 else ACCENT for v in scaled]
    ax.barh(positions[: len(titles)], scaled, color=colours)
    for edge in (1, 2, 3, 5):
        ax.axvline(edge, color=MUTED, linewidth=0.6, linestyle=":")
    ax.axvline(pass_bar, color=BAD, linewidth=1.1, linestyle="--")
    for y, value in zip(positions, scaled, strict=False):
        ax.annotate(
            f"{value:.2f}", (value, y), textcoords="offset points", xytext=(4, -3), fontsize=8
        )
    ax.set_yticks(positions[: len(titles)], [_label(t) for t in titles])
    ax.set_xlim(0, 7.6)
    ax.set_xlabel("score (0-7); dotted: band edges; dashed: the pass bar")
    return to_svg(figure)


def run_times(
    labels: Sequence[str],
    seconds: Sequence[float],
    budgets: Sequence[float],
    cached: Sequence[bool],
) -> str:
    """Each scoring run's wall time (dots; hollow: answered from the cache) against its budget
    (dashed), on a log scale so a run of seconds and a budget of hours both show."""
    figure = _figure(7, 2.4)
    ax = figure.subplots()
    positions = list(range(len(labels)))
    colours = [BAD if s > b else OK for s, b in zip(seconds, budgets, strict=False)]
    for x, s, colour, hit in zip(positions, seconds, colours, cached, strict=False):
        ax.scatter(
            [x],
            [max(s, 1e-3)],
            s=26,
            zorder=3,
            edgecolors=colour,
            facecolors="none" if hit else colour,
        )
    ax.step(positions, budgets, where="mid", color=BAD, linestyle="--", linewidth=1.1)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log scale)")
    ax.set_xticks(positions, [_label(x) for x in labels], rotation=20, ha="right", fontsize=7)
    return to_svg(figure)
