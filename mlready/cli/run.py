"""``mlready run``: every step in order, skipping those whose inputs did not change."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from mlready.cli import site as site_cmd
from mlready.cli.state import (
    STATE,
    JsonOption,
    SpecOption,
    err,
    out,
    print_table,
    quiet_verdict,
)

_STEP_HELP = "test, validate-data, train, register, serve-batch, check-drift or checklist-report"


def _steps(
    spec: Path, report_dir: Path | None, plan: Any, force: bool = False
) -> dict[str, Callable[[], None]]:
    """Each step as the command a person would type, with the pipeline's choices: register the
    model this pipeline trained, check the batch this pipeline scored."""
    from mlready.cli import checklist, drift, project_tests, register, serve, train, validate

    def produced(step: str) -> str | None:
        return (plan.state.get(step) or {}).get("run_id")

    return {
        "test": lambda: project_tests.project_tests(spec=spec),
        "validate-data": lambda: validate.validate_data(spec=spec),
        "train": lambda: train.train(spec=spec),
        "register": lambda: register.register(
            run=produced("train"), promote="production", spec=spec
        ),
        "serve-batch": lambda: serve.serve_batch(spec=spec),
        "check-drift": lambda: drift.check_drift(batch=produced("serve-batch"), spec=spec),
        "checklist-report": lambda: checklist.checklist_report(
            output=report_dir, force=force, spec=spec
        ),
    }


def run(
    start: Annotated[
        str | None, typer.Option("--from", help=f"Start at this step: {_STEP_HELP}.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help=f"Stop after this step: {_STEP_HELP}.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Run every step, even when its inputs did not change; let --report-dir "
            "overwrite report files mlready did not write.",
        ),
    ] = False,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also copy the readiness report (HTML, Markdown, JSON) here, and each step's "
            "HTML report and JUnit XML in a folder per step, e.g. for CI.",
            file_okay=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Run the whole pipeline, skipping the steps whose inputs did not change.

    The steps: test (checklist.test_command), validate-data, train, register (through the
    gate), serve-batch, check-drift, checklist-report. The first hard failure stops it, and the
    run exits with that step's code.
    """
    from mlready.pipeline import Plan, run_pipeline, select_steps
    from mlready.spec import load_spec
    from mlready.spec.loading import find_spec_path

    as_json = as_json or STATE.json
    chosen = select_steps(start, until)
    spec_path = find_spec_path(STATE.spec_path(spec))
    plan = Plan(load_spec(spec_path))
    commands = {
        step: _exit_code(command, as_json)
        for step, command in _steps(spec_path, report_dir, plan, force).items()
    }
    with site_cmd.held():  # refreshed once, after the last step
        result = run_pipeline(
            plan,
            chosen,
            commands,
            force=force,
            report_dir=report_dir,
            announce=lambda step, note: _announce(step, note, as_json),
        )
    site_cmd.refresh(plan.loaded)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result.outcomes, result.report, result.exit_code, site_cmd.site_path(plan.loaded))
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _exit_code(command: Callable[[], None], as_json: bool) -> Callable[[], int]:
    """A step's command as the pipeline calls it: its exit code, its output on stderr when
    stdout carries the JSON document."""

    def call() -> int:
        with _stdout_to_stderr(as_json):
            try:
                command()
            except typer.Exit as exit_:
                return int(exit_.exit_code)
        return 0

    return call


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Any:
    """With --json, stdout carries one document: the steps' own output goes to stderr."""
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _announce(step: str, note: str, as_json: bool) -> None:
    if STATE.quiet:
        return
    console = err() if as_json else out()
    console.rule(f"[bold]{step}[/]" + (f" [dim]{note}[/]" if note else ""), align="left")


def _print(outcomes: list[Any], report: Path | None, exit_code: int, site: Path) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    console = out()
    colours = {
        "ran": "green",
        "skipped": "dim",
        "failed": "bold red",
        "not run": "yellow",
        "not configured": "yellow",
    }
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ran", "skipped", "failed")}
    verdict = (
        "[green]PASSED[/]" if exit_code == 0 else f"[bold red]FAILED[/] (exit {exit_code})"
    ) + f": {counts['ran']} steps ran, {counts['skipped']} skipped, {counts['failed']} failed"
    stopped = any(o.status == "not run" for o in outcomes)
    failures = [
        f"{'stopped at' if stopped and o.status == 'failed' else 'failed'} {o.step}: {o.reason}"
        for o in outcomes
        if o.exit_code
    ]
    if quiet_verdict(exit_code == 0, verdict, failures):
        return
    table = Table(title="mlready run")
    for name in ("step", "status", "run", "seconds", "note"):
        table.add_column(name, justify="right" if name == "seconds" else "left")
    for o in outcomes:
        # said in full under the table: it would wrap in 80 columns
        note = "" if o.status == "not configured" else o.reason
        table.add_row(
            o.step,
            f"[{colours[o.status]}]{o.status}[/]",
            o.run_id or "",
            f"{o.seconds:.1f}" if o.status in ("ran", "failed") else "",
            literal(note),
        )
    print_table(table)
    for o in outcomes:
        if o.status == "not configured":
            console.print(f"[yellow]not configured[/] {o.step}: {literal(o.reason)}")
    for failure in failures:
        console.print(f"[bold red]{literal(failure)}[/]")
    console.print(verdict)
    if report is not None:
        console.print(f"readiness report: {report}")
    if site.is_file():
        console.print(f"project site: {site}")
