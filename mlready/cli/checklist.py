"""``mlready checklist-report``: the production-readiness score, computed from the evidence."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlready.cli import site as site_cmd
from mlready.cli.state import STATE, JsonOption, SpecOption, out, print_table, quiet_verdict

if TYPE_CHECKING:
    from mlready.checklist import ReadinessResult


class OutputFormat(str, Enum):
    """What is printed on stdout."""

    text = "text"
    json = "json"
    markdown = "markdown"


def checklist_report(
    fail_under: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=7,
            help="Exit 1 when the final score is under this. \\[default: checklist.pass_bar]",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Also write checklist.html, .md and .json into this folder (for CI artifacts).",
            file_okay=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="What to print on stdout: a summary, the JSON, or the Markdown summary "
            "(for $GITHUB_STEP_SUMMARY).",
        ),
    ] = OutputFormat.text,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Let --output overwrite checklist files mlready did not write."
        ),
    ] = False,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Score production readiness from what the other commands recorded.

    Writes an HTML report, a Markdown summary and JSON. Exit 1 when the score is under the pass
    bar.
    """
    from mlready.checklist.report import render_markdown
    from mlready.project.steps import run_checklist_report
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    run = run_checklist_report(loaded, fail_under=fail_under, output=output, force=force)
    result = run.result
    site_cmd.refresh(loaded)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=str))
    elif output_format is OutputFormat.markdown:
        typer.echo(render_markdown(result, str(run.report)), nl=False)
    else:
        _print(result, Path(str(run.report)))
    if not result.passed:
        raise typer.Exit(1)


def _print(result: ReadinessResult, report: Path) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    console = out()
    verdict = "[green]meets[/]" if result.passed else "[bold red]is UNDER[/]"
    judged = "passing now" if result.judged == "passing_now" else "in place"
    line = (
        f"readiness {result.final_score:.2f} / 7 passing now: [bold]{result.band}[/]; "
        f"{result.in_place_score:.2f} in place ({result.in_place_band}); the {judged} score "
        f"{verdict} the bar of {result.pass_bar:g}; weakest: {', '.join(result.weakest)}"
    )
    if quiet_verdict(result.passed, line):
        return
    table = Table(title=f"Production readiness: {literal(result.project)}")
    for name in ("section", "passing now", "in place", "items passing"):
        table.add_column(name, justify="left" if name == "section" else "right")
    for s in result.sections:
        table.add_row(
            s.title, f"{s.passing_scaled:.2f}", f"{s.scaled:.2f}", f"{s.passing}/{s.items}"
        )
    print_table(table)
    console.print(line)
    for n, gap in enumerate(result.gaps, 1):
        colour = "red" if gap["status"] == "failing" else "yellow"
        console.print(
            f"{n}. [bold]{literal(gap['id'])}[/] {literal(gap['title'])} "
            f"([{colour}]{gap['status']}[/]): {literal(gap['next_action'])}"
        )
    needs_ci = [i.id for i in result.items if i.needs_ci]
    if needs_ci:
        console.print(
            f"[yellow]{len(needs_ci)} items ran by hand or once[/]: run them from CI on two "
            f"commits or days for 1 point each ({', '.join(needs_ci[:8])}"
            f"{' ...' if len(needs_ci) > 8 else ''})"
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {literal(warning)}")
    console.print(f"report: {report}")
