"""The readiness report as self-contained HTML (for stakeholders), Markdown (for CI job summaries
and pull-request comments) and JSON (for scripts): three views of one ReadinessResult."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlready.checklist import ReadinessResult
from mlready.checklist.rubric import BANDS, SECTIONS

__all__ = ["render_html", "render_markdown", "write_outputs"]

FILES = ("checklist.html", "checklist.md", "checklist.json")


def _charts(result: ReadinessResult) -> dict[str, Any]:
    from markupsafe import Markup

    from mlready import charts

    out: dict[str, Any] = {
        "metrics": None,
        "value": None,
        "sla": None,
        "drift": None,
        "sections": Markup(
            charts.section_scores(
                [s.title for s in result.sections],
                [s.passing_scaled for s in result.sections],
                result.final_score,
                result.pass_bar,
            )
        ),
    }
    trends = result.trends
    if trends["metrics"]:
        out["metrics"] = Markup(charts.metric_panels(trends["metrics"]))
    curve = trends["value_curve"]
    if curve and curve["points"]:
        marks = []
        if curve["threshold"] is not None:
            nearest = min(curve["points"], key=lambda p: abs(p[0] - curve["threshold"]))
            marks.append((curve["threshold"], nearest[1], f"chosen {curve['threshold']:.2f}"))
        out["value"] = Markup(
            charts.value_curve([tuple(p) for p in curve["points"]], marks, curve["currency"])
        )
    if trends["sla"]:
        out["sla"] = Markup(
            charts.run_times(
                [s["run_id"][:15] for s in trends["sla"]],
                [s["wall_s"] or 0.0 for s in trends["sla"]],
                [s["budget_s"] for s in trends["sla"]],
                [s["cached"] for s in trends["sla"]],
            )
        )
    if len(trends["drift"]) > 0:
        out["drift"] = Markup(
            charts.history(
                [d["run_id"][:15] for d in trends["drift"]],
                [d["share"] for d in trends["drift"]],
                trends["drift"][-1]["bar"],
            )
        )
    return out


def evidence_target(entry: dict[str, Any], base_dir: Path) -> Path | None:
    """The file an evidence entry names (a run folder: the report or log in it), when it is
    there; None for an entry without a path, or one that is missing."""
    from mlready.reporting import run_page

    path = entry.get("path")
    if not isinstance(path, str) or not path:
        return None
    target = Path(path)
    target = target if target.is_absolute() else base_dir / target
    if target.is_dir():
        step = entry.get("step")
        return run_page(target, step if isinstance(step, str) else None)
    return target if target.is_file() else None


def evidence_links(
    result: ReadinessResult, folder: Path | str, base_dir: Path | str | None = None
) -> dict[str, Any]:
    """Links, relative to a page in ``folder``, to every file the report names: per item, one
    href (or None) per evidence entry and one for its attestation's document; and the run log."""
    from mlready.reporting import relative_href

    base = Path(base_dir or result.base_dir or ".")
    items: dict[str, list[str | None]] = {}
    attested: dict[str, str | None] = {}
    for item in result.items:
        hrefs = []
        for entry in item.evidence:
            target = evidence_target(entry, base)
            hrefs.append(None if target is None else relative_href(target, folder))
        items[item.id] = hrefs
        document = (item.attestation or {}).get("evidence")
        href = None
        if isinstance(document, str) and document.startswith(("https://", "http://")):
            href = document
        elif isinstance(document, str) and document:
            path = Path(document.split("#", 1)[0])
            path = path if path.is_absolute() else base / path
            href = relative_href(path, folder) if path.is_file() else None
        attested[item.id] = href
    log = result.log.get("path") if result.log else None
    log_href = relative_href(log, folder) if log and Path(log).is_file() else None
    return {"items": items, "attestations": attested, "log": log_href}


def render_html(result: ReadinessResult, folder: Path | str | None = None) -> str:
    """The stakeholder report: summary first, then every section with its evidence (each file
    it names a link, relative to ``folder``, where the report is written)."""
    import datetime as dt

    from mlready.reporting import render

    bands = []
    lower = None
    for upper, name, meaning in BANDS:
        span = (
            "0"
            if upper == 0
            else (f"above {lower:g}" if upper == float("inf") else f"above {lower:g} to {upper:g}")
        )
        bands.append({"range": span, "name": name, "meaning": meaning})
        lower = upper
    return render(
        "checklist.html.j2",
        generated_at=dt.datetime.fromisoformat(result.generated_at),
        r=result,
        sections=SECTIONS,
        bands=bands,
        charts=_charts(result),
        links=evidence_links(result, folder)
        if folder is not None and result.base_dir
        else {"items": {}, "attestations": {}, "log": None},
    )


def _md(text: Any) -> str:
    """Text safe in a Markdown table cell: no markup, no pipes, one line."""
    value = " ".join(str(text).split())
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        value = value.replace(char, entity)
    for char in "`*_[]":
        value = value.replace(char, "\\" + char)
    return value


_ICON = {
    "passing": "✅ passing",
    "failing": "❌ failing",
    "not done": "⬜ not done",
    "attested": "📝 attested, not verified",
}


def render_markdown(result: ReadinessResult, report_path: str | None = None) -> str:
    """A short summary for a CI job summary or a pull-request comment."""
    verdict = "passes" if result.passed else "is UNDER"
    lines = [
        f"## Production readiness: {_md(result.project)}",
        "",
        f"**Passes now: {result.final_score:.2f} / 7, {result.band}**; in place: "
        f"{result.in_place_score:.2f} ({result.in_place_band}). The "
        f"{'passing-now' if result.judged == 'passing_now' else 'in-place'} score {verdict} "
        f"the bar of {result.pass_bar:g}. {_md(result.band_meaning)}",
        "",
    ]
    if result.log.get("altered") or result.log.get("foreign") or result.log.get("unchained"):
        lines += [
            f"> **The run log "
            f"{'was altered' if result.log.get('altered') else 'has untrusted records'}**: "
            f"{result.log['left_out']} record(s) are left out of the score "
            "(`mlready runs verify` lists them).",
            "",
        ]
    if result.model:
        lines.append(f"Production model: {_md(result.model)}.")
    business = result.business
    if business.get("defined") and business.get("value") is not None:
        text = f"Business value in training: {business['value']:,.0f} {_md(business['currency'])}"
        if business.get("realized"):
            text += (
                f"; realized on served data: {business['realized']['value']:,.0f} "
                f"{_md(business['currency'])}"
            )
        lines.append(text + ".")
    lines += [
        "",
        "| section | passes now | in place | items passing |",
        "|---|---:|---:|---:|",
    ]
    for s in result.sections:
        lines.append(
            f"| {s.title} | {s.passing_scaled:.2f} | {s.scaled:.2f} | {s.passing} / {s.items} |"
        )
    if result.gaps:
        lines += ["", "### Biggest gaps", ""]
        for n, gap in enumerate(result.gaps, 1):
            lines.append(
                f"{n}. **{gap['id']} {_md(gap['title'])}** ({gap['status']}): "
                f"{_md(gap['next_action'])}"
            )
    lines += [
        "",
        "<details><summary>Every item</summary>",
        "",
        "| item | status | points now / in place | basis |",
        "|---|---|---:|---|",
    ]
    for item in result.items:
        lines.append(
            f"| {item.id} {_md(item.title)} | {_ICON[item.status]} | "
            f"{item.passing_points:g} / {item.points:g} | {_md(item.basis)} |"
        )
    lines += ["", "</details>", ""]
    for warning in result.warnings:
        lines.append(f"> warning: {_md(warning)}")
    if report_path:
        lines.append(f"Full report: `{report_path}`")
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(
    result: ReadinessResult,
    run_dir: Path | str,
    copies: Path | str | None = None,
    *,
    artifacts_dir: Path | str | None = None,
) -> dict[str, Path]:
    """checklist.html, checklist.md and checklist.json in the run folder (and in ``copies``, as
    one commit, recorded in ``artifacts_dir`` as files mlready wrote)."""
    from mlready.io import atomic_write_json, atomic_write_text, json_text, write_files

    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "checklist.json", result.to_dict())
    markdown = render_markdown(result, str(folder / "checklist.html"))
    atomic_write_text(folder / "checklist.md", markdown)
    atomic_write_text(folder / "checklist.html", render_html(result, folder))
    if copies:
        target = Path(copies)
        write_files(
            target,
            {
                "checklist.json": json_text(result.to_dict()).encode("utf-8"),
                "checklist.md": render_markdown(result, str(target / "checklist.html")).encode(),
                # each copy links the evidence from where it stands
                "checklist.html": render_html(result, target).encode("utf-8"),
            },
            artifacts_dir=artifacts_dir,
        )
    return {
        "html": folder / "checklist.html",
        "markdown": folder / "checklist.md",
        "json": folder / "checklist.json",
    }
