"""Charts for the HTML reports: matplotlib figures rendered to inline SVG (text kept as text).

Every function returns an ``<svg>`` string ready to embed; nothing is fetched or scripted.
Labels are data (feature names, slice values): '$' is escaped so matplotlib never reads them as
maths, and the SVG writer escapes markup. The small multiples a report draws one per feature
(:func:`bin_shares`) are written as SVG directly: a chart for each of hundreds of features in
milliseconds, not a second each; their text is escaped here.
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
    ax.bar(positions, shares, width=0.6, color=colours)
    for x, share in zip(positions, shares, strict=False):
        ax.annotate(
            f"{share:.0%}",
            (x, share),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            fontsize=7,
        )
    ax.axhline(bar, color=BAD, linestyle="--", linewidth=1.1)
    ax.set_xlim(-0.6, max(len(labels), 8) - 0.4)  # a few checks: bars as wide as for many
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


#: At most this many categories are drawn; the rest are summed into "other".
MAX_BARS = 12


def _number(value: float) -> str:
    """A bin edge as a label: 3 significant digits, thousands as k and millions as M."""
    size = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= scale:
            return f"{value / scale:.3g}{suffix}"
    if size and size < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3g}"


def _bins(
    reference: dict[str, Any], current: dict[str, Any]
) -> tuple[list[str], list[float], list[float] | None, bool]:
    """Labels, reference shares and current shares (None: not counted in the same bins) of the
    bins a feature is drawn in, and whether they are quantile bins of a number."""
    numeric = reference.get("kind") == "numeric" and reference.get("cuts") is not None
    ref_values = reference.get("value_counts") if numeric else None
    cur_values = current.get("value_counts") if numeric else None
    if numeric and not (ref_values and cur_values is not None):
        cuts = [float(c) for c in reference.get("cuts") or []]
        ref = [float(c) for c in reference.get("counts") or []]
        cur_counts = current.get("counts")
        same = list(current.get("cuts") or []) == list(reference.get("cuts") or [])
        cur = [float(c) for c in cur_counts] if same and cur_counts is not None else None
        labels = []
        for index in range(len(cuts) + 1):
            if index == 0:
                labels.append(f"< {_number(cuts[0])}" if cuts else "all")
            elif index == len(cuts):
                labels.append(f"≥ {_number(cuts[-1])}")
            else:
                labels.append(f"{_number(cuts[index - 1])}–{_number(cuts[index])}")  # noqa: RUF001
        keep = [
            i
            for i in range(len(labels))
            if (i < len(ref) and ref[i]) or (cur is not None and i < len(cur) and cur[i])
        ]
        ref_total, cur_total = sum(ref) or 1.0, (sum(cur) if cur else 0.0) or 1.0
        return (
            [labels[i] for i in keep],
            [ref[i] / ref_total if i < len(ref) else 0.0 for i in keep],
            None if cur is None else [cur[i] / cur_total if i < len(cur) else 0.0 for i in keep],
            True,
        )
    ref_counts = dict(ref_values or reference.get("categories") or {})
    cur_counts = dict(cur_values or current.get("categories") or {})
    from mlready.profiles import OTHER

    ref_other = float(reference.get("other") or 0) + float(ref_counts.pop(OTHER, 0) or 0)
    cur_other = float(current.get("other") or 0) + float(cur_counts.pop(OTHER, 0) or 0)
    names = sorted(
        set(ref_counts) | set(cur_counts),
        key=lambda k: (-ref_counts.get(k, 0), -cur_counts.get(k, 0), str(k)),
    )
    if numeric:  # a number with few values: in the order of the values
        names = sorted(names, key=lambda k: float(k))
    shown, rest = names[:MAX_BARS], names[MAX_BARS:]
    ref_other += sum(ref_counts.get(k, 0) for k in rest)
    cur_other += sum(cur_counts.get(k, 0) for k in rest)
    ref_total = sum(ref_counts.values()) + float(reference.get("other") or 0) or 1.0
    cur_total = sum(cur_counts.values()) + float(current.get("other") or 0) or 1.0
    labels = [_number(float(k)) if numeric else str(k) for k in shown]
    ref_shares = [ref_counts.get(k, 0) / ref_total for k in shown]
    cur_shares = [cur_counts.get(k, 0) / cur_total for k in shown]
    if ref_other or cur_other:
        labels.append("other")
        ref_shares.append(ref_other / ref_total)
        cur_shares.append(cur_other / cur_total)
    return labels, ref_shares, cur_shares, False


def bin_shares(
    reference: dict[str, Any], current: dict[str, Any], title: str, drifted: bool = False
) -> str:
    """Reference (grey) against current (blue): the share of rows in each bin, one pair of bars
    per bin, every bin as wide as the next. A number is cut at the reference's quantiles, so
    each of its bins holds about as many training rows: a narrow bin is no spike, and where
    the current bars leave that level is where the data moved. Categories (and numbers with
    few values) get a bar each."""
    import html

    labels, ref, cur, quantiles = _bins(reference, current)
    width, height = 460.0, 256.0
    left, right, top, bottom = 44.0, 10.0, 34.0, 78.0
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*ref, *(cur or []), 0.01])
    step = next(s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0) if peak / s <= 5)
    top_value = step * (int(peak / step) + 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    def esc(text: Any) -> str:
        return html.escape(str(text), quote=True)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" class="bins" '
        f'font-family="sans-serif" font-size="10" fill="{INK}">',
        f"<title>{esc(title)}: share of rows per bin, reference against current</title>",
        f'<text x="{left}" y="13" font-size="12" font-weight="600">{esc(title)}'
        + (f'<tspan fill="{BAD}"> (drifted)</tspan>' if drifted else "")
        + "</text>",
        f'<rect x="{width - 170}" y="4" width="9" height="9" fill="{MUTED}"/>'
        f'<text x="{width - 157}" y="12">reference</text>'
        f'<rect x="{width - 100}" y="4" width="9" height="9" fill="{ACCENT}"/>'
        f'<text x="{width - 87}" y="12">current</text>',
    ]
    tick = 0.0
    while tick <= top_value + 1e-12:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{"#9aa5b1" if tick == 0 else "#e4e7eb"}" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end">{tick:.0%}</text>'
        )
        tick = round(tick + step, 10)
    count = max(len(labels), 1)
    slot = plot_w / count
    bar = slot * (0.42 if cur is not None else 0.8)
    every = max(1, -(-count // 12)) if quantiles else 1  # at most 12 bin labels
    for index, label in enumerate(labels):
        x0 = left + index * slot + slot * 0.08
        shares = [(ref[index], MUTED, "reference")]
        if cur is not None:
            shares.append((cur[index], ACCENT, "current"))
        tip = f"{title} {label}: " + ", ".join(f"{name} {v:.1%}" for v, _, name in shares)
        for offset, (value, colour, _name) in enumerate(shares):
            x = x0 + offset * bar
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(value):.1f}" width="{max(bar, 0.5):.1f}" '
                f'height="{max(y(0) - y(value), 0):.1f}" fill="{colour}">'
                f"<title>{esc(tip)}</title></rect>"
            )
        if index % every == 0:
            cx = left + (index + 0.5) * slot
            text = label if len(label) <= 16 else label[:15] + "…"
            parts.append(
                f'<text x="{cx:.1f}" y="{y(0) + 10:.1f}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {y(0) + 10:.1f})">{esc(text)}</text>'
            )
    note = (
        "bins: the reference's quantiles (each about as many training rows)"
        if quantiles
        else "share of rows per value"
    )
    if cur is None:
        note = "the current data was not counted in the reference's bins"
    parts.append(f'<text x="{left}" y="{height - 3}" fill="#52606d">{esc(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def score_history(
    labels: Sequence[str],
    passing: Sequence[float],
    in_place: Sequence[float | None],
    pass_bar: float | None,
) -> str:
    """Readiness over time, oldest first: the passing-now score (solid) and the in-place score
    (dotted) on the 0-7 scale, the band edges (1, 2, 3, 5) grey, the pass bar dashed red."""
    figure = _figure(7, 2.5)
    ax = figure.subplots()
    positions = list(range(len(labels)))
    for edge in (1, 2, 3, 5):
        ax.axhline(edge, color=MUTED, linewidth=0.6, linestyle=":")
    if pass_bar is not None:
        ax.axhline(pass_bar, color=BAD, linewidth=1.1, linestyle="--", label="pass bar")
    placed = [(x, v) for x, v in zip(positions, in_place, strict=False) if v is not None]
    if placed:
        ax.plot(
            [p[0] for p in placed],
            [p[1] for p in placed],
            color=MUTED,
            linewidth=1.4,
            linestyle=":",
            marker="o",
            markersize=3,
            label="in place",
        )
    ax.plot(positions, passing, color=ACCENT, linewidth=1.8, marker="o", markersize=4)
    ax.lines[-1].set_label("passes now")
    for x, value in zip(positions, passing, strict=False):
        ax.annotate(
            f"{value:.2f}",
            (x, value),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    ax.set_ylim(0, 7.4)
    ax.set_yticks([0, 1, 2, 3, 5, 7])
    ax.set_ylabel("score (0-7)")
    ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    ax.set_xticks(positions, [_label(x) for x in labels], rotation=20, ha="right", fontsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)
    return to_svg(figure)


def checks_history(labels: Sequence[str], passed: Sequence[int], failed: Sequence[int]) -> str:
    """Data checks per validation, oldest first: the checks that passed (green) and failed (red)."""
    figure = _figure(7, 2.4)
    ax = figure.subplots()
    positions = list(range(len(labels)))
    ax.bar(positions, passed, width=0.6, color=OK, label="passed")
    ax.bar(positions, failed, width=0.6, bottom=passed, color=BAD, label="failed")
    ax.set_ylabel("checks")
    ax.set_xlim(-0.6, max(len(labels), 8) - 0.4)  # a few runs: bars as wide as for many
    ax.set_xticks(positions, [_label(x) for x in labels], rotation=20, ha="right", fontsize=7)
    ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
    return to_svg(figure)


# ------------------------------------------------------------ the training report's curves

#: Colours of the lines of a chart with several (one-vs-rest per class).
SERIES = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#52606d")


def curves(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    reference: tuple[Sequence[float], Sequence[float], str] | None = None,
    marks: Sequence[tuple[float, float, str]] = (),
    steps: bool = False,
) -> str:
    """Lines on the unit square (ROC, precision-recall): one per series (label, xs, ys), a
    dashed grey reference line (label), and labelled points (the operating threshold).
    ``steps``: drawn as a staircase, as a precision-recall curve is."""
    figure = _figure(3.5, 3.3)
    ax = figure.subplots()
    if reference is not None:
        xs, ys, label = reference
        ax.plot(xs, ys, color=MUTED, linewidth=1.0, linestyle="--", label=_label(label))
    for index, (label, xs, ys) in enumerate(series):
        ax.plot(
            xs,
            ys,
            color=SERIES[index % len(SERIES)],
            linewidth=1.6,
            drawstyle="steps-post" if steps else "default",
            label=_label(label),
        )
    for x, y, label in marks:
        ax.scatter([x], [y], color=INK, s=22, zorder=3)
        ax.annotate(
            _label(label),
            (x, y),
            textcoords="offset points",
            xytext=(6, -12 if y > 0.85 else 6),
            fontsize=8,
        )
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.03)
    ax.set_aspect("equal")
    ax.set_xlabel(_label(xlabel))
    ax.set_ylabel(_label(ylabel))
    ax.set_title(_label(title), fontsize=9)
    ax.grid(color="#e4e7eb", linewidth=0.6)
    ax.legend(fontsize=7, frameon=False, loc="lower right" if not steps else "lower left")
    return to_svg(figure)


def reliability(predicted: Sequence[float], observed: Sequence[float], rows: Sequence[int]) -> str:
    """The calibration curve: the observed positive rate against the mean predicted
    probability in each bin (the diagonal is perfect calibration), and beneath it the rows per
    bin."""
    figure = _figure(3.5, 3.6)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(
        [0, 1], [0, 1], color=MUTED, linewidth=1.0, linestyle="--", label="perfectly calibrated"
    )
    top.plot(
        predicted, observed, color=ACCENT, linewidth=1.6, marker="o", markersize=4, label="model"
    )
    top.set_xlim(-0.01, 1.01)
    top.set_ylim(-0.01, 1.03)
    top.set_ylabel("observed positive rate")
    top.set_title("Calibration (reliability)", fontsize=9)
    top.grid(color="#e4e7eb", linewidth=0.6)
    top.legend(fontsize=7, frameon=False, loc="upper left")
    bottom.bar(predicted, rows, width=0.06, color=MUTED)
    bottom.set_ylabel("rows", fontsize=8)
    bottom.set_xlabel("mean predicted probability (bins of 0.1)")
    bottom.tick_params(axis="y", labelsize=7)
    return to_svg(figure)


def confusion(matrix: Sequence[Sequence[int]], classes: Sequence[str], threshold: str) -> str:
    """A confusion matrix: actual classes down, predicted across; each cell its count and its
    share of the actual class, shaded by that share."""
    import numpy as np

    counts = np.asarray(matrix, dtype=float)
    size = max(len(classes), 1)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    side = min(1.9 + 0.5 * size, 8.0)
    figure = _figure(side + 0.4, side)
    ax = figure.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    font = 9 if size <= 4 else 7 if size <= 10 else 6
    for i in range(size):
        for j in range(size):
            ax.text(
                j,
                i,
                f"{int(counts[i, j]):,}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=font,
                color="white" if shares[i, j] > 0.55 else INK,
            )
    names = [_label(c if len(str(c)) <= 16 else str(c)[:15] + "…") for c in classes]
    ax.set_xticks(
        range(size), names, rotation=30 if size > 3 else 0, ha="right" if size > 3 else "center"
    )
    ax.set_yticks(range(size), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(_label(f"Confusion matrix {threshold}"), fontsize=9)
    ax.spines[:].set_visible(False)
    return to_svg(figure)


def residuals(
    predictions: Sequence[float],
    residual: Sequence[float],
    bins: Sequence[dict[str, float]],
) -> str:
    """Residuals (actual minus prediction) against the prediction: one dot per row (a sample),
    the zero line, and the mean residual over bins of the prediction: a line away from zero
    is a bias where the model predicts that high."""
    figure = _figure(7, 3.0)
    ax = figure.subplots()
    ax.scatter(predictions, residual, s=7, color=ACCENT, alpha=0.5, linewidths=0, label="a row")
    ax.axhline(0, color=MUTED, linewidth=1.0)
    if bins:
        ax.plot(
            [b["prediction"] for b in bins],
            [b["mean_residual"] for b in bins],
            color=BAD,
            linewidth=1.6,
            marker="o",
            markersize=4,
            label="mean residual per bin of the prediction",
        )
    ax.set_xlabel("prediction")
    ax.set_ylabel("residual (actual − prediction)")  # noqa: RUF001
    ax.grid(color="#e4e7eb", linewidth=0.6)
    ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
    return to_svg(figure)
