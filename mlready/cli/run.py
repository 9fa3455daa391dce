"""``mlready run``: every step in order, skipping those whose inputs did not change."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from mlready.cli.state import STATE, JsonOption, SpecOption, err, out

_STEP_HELP = "validate-data, train, register, serve-batch, check-drift or checklist-report"


def _steps(spec: Path, report_dir: Path | None, plan: Any) -> dict[str, Callable[[], None]]:
    """Each step as the command a person would type, with the pipeline's choices: register the
    model this pipeline trained, check the batch this pipeline scored."""
    from mlready.cli import checklist, drift, register, serve, train, validate

    def produced(step: str) -> str | None:
        return (plan.state.get(step) or {}).get("run_id")

    return {
        "validate-data": lambda: validate.validate_data(spec=spec),
        "train": lambda: train.train(spec=spec),
        "register": lambda: register.register(
            run=produced("train"), promote="production", spec=spec
        ),
        "serve-batch": lambda: serve.serve_batch(spec=spec),
        "check-drift": lambda: drift.check_drift(batch=produced("serve-batch"), spec=spec),
        "checklist-report": lambda: checklist.checklist_report(output=report_dir, spec=spec),
    }


def run(
    start: Annotated[
        str | None, typer.Option("--from", help=f"Start at this step: {_STEP_HELP}.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help=f"Stop after this step: {_STEP_HELP}.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run every step, even when its inputs did not change.")
    ] = False,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also copy the readiness report (HTML, Markdown, JSON) here, e.g. for CI.",
            file_okay=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Run the pipeline: validate-data, train, register (through the gate), serve-batch,
    check-drift, checklist-report. Unchanged steps are skipped; the first hard failure stops it."""
    from mlready.errors import MlreadyError
    from mlready.pipeline import Plan, StepOutcome, select_steps
    from mlready.runs import read_run_log
    from mlready.spec import load_spec
    from mlready.spec.loading import find_spec_path

    as_json = as_json or STATE.json
    chosen = select_steps(start, until)
    spec_path = find_spec_path(STATE.spec_path(spec))
    loaded = load_spec(spec_path)
    plan = Plan(loaded)
    commands = _steps(spec_path, report_dir, plan)
    outcomes: list[StepOutcome] = []
    final = 0
    stopped = False
    for step in chosen:
        if stopped:
            outcomes.append(StepOutcome(step, "not run", reason="an earlier step failed"))
            continue
        missing = plan.configured(step)
        if missing:
            outcomes.append(StepOutcome(step, "not configured", reason=missing))
            continue
        started = time.perf_counter()
        try:
            key = plan.key(step)
        except MlreadyError as error:
            outcomes.append(StepOutcome(step, "failed", error.exit_code, reason=str(error)))
            final, stopped = error.exit_code, True
            continue
        previous = "" if force else plan.unchanged(step, key)
        if previous:
            outcomes.append(StepOutcome(step, "skipped", run_id=previous, reason="unchanged"))
            _announce(step, f"skipped: inputs unchanged since run {previous}", as_json)
            if step == "checklist-report" and report_dir is not None:
                _copy_report(plan, previous, report_dir)
            continue
        _announce(step, "", as_json)
        before = {r.run_id for r in read_run_log(plan.artifacts, step)}
        code, reason = 0, ""
        interrupted = False
        with _stdout_to_stderr(as_json):
            try:
                commands[step]()
            except typer.Exit as exit_:
                code = exit_.exit_code
            except MlreadyError as error:
                code, reason = error.exit_code, str(error)
                _print_error(reason)
            except KeyboardInterrupt:
                code, reason, interrupted = 130, "interrupted", True
        seconds = time.perf_counter() - started
        new = [r for r in read_run_log(plan.artifacts, step) if r.run_id not in before]
        run_id = new[-1].run_id if new else None
        if code == 0 and new:
            plan.remember(step, key, new[-1])
            outcomes.append(StepOutcome(step, "ran", 0, run_id, seconds))
        elif code == 1 and step in ("check-drift", "checklist-report"):
            plan.forget(step)
            # a finding, not a breakdown: the report is still worth writing
            outcomes.append(StepOutcome(step, "failed", 1, run_id, seconds, _finding(step)))
            final = 1
        else:
            plan.forget(step)
            outcomes.append(
                StepOutcome(step, "failed", code, run_id, seconds, reason or _finding(step))
            )
            final, stopped = code or 1, True
            if interrupted:
                _print_error("interrupted")
    reported = any(
        o.step == "checklist-report" and (o.status == "skipped" or o.run_id) for o in outcomes
    )
    report = _report(plan) if reported else None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "passed": final == 0,
                    "exit_code": final,
                    "steps": [o.to_dict() for o in outcomes],
                    "report": str(report) if report else None,
                },
                indent=2,
            )
        )
    else:
        _print(outcomes, report)
    if final:
        raise typer.Exit(final)


def _finding(step: str) -> str:
    return {
        "validate-data": "the training data broke the contract (see its report)",
        "train": "the model missed its checks (see the training report)",
        "register": "the new version did not pass the promotion gate; production is unchanged",
        "serve-batch": "the batch could not be scored in full (see its run.log)",
        "check-drift": "drift or an error-severity alert (see the drift report)",
        "checklist-report": "readiness is under the pass bar",
    }[step]


def _copy_report(plan: Any, run_id: str, target: Path) -> None:
    """A skipped checklist-report still delivers its report where CI looks for it."""
    import shutil

    from mlready.checklist.report import FILES

    folder = plan.artifacts / "runs" / "checklist-report" / run_id
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (folder / name).is_file():
            shutil.copyfile(folder / name, target / name)


def _report(plan: Any) -> Path | None:
    remembered = (plan.state.get("checklist-report") or {}).get("run_id")
    from mlready.runs import read_run_log

    records = [
        r
        for r in read_run_log(plan.artifacts, "checklist-report")
        if r.status != "error" and (remembered is None or r.run_id >= remembered)
    ]
    if not records:
        return None
    path = plan.artifacts / records[-1].run_dir / "checklist.html"
    return path if path.exists() else None


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


def _print_error(message: str) -> None:
    from rich.markup import escape

    err().print(f"[bold red]error[/]: {escape(message)}")


def _print(outcomes: list[Any], report: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = out()
    colours = {
        "ran": "green",
        "skipped": "dim",
        "failed": "bold red",
        "not run": "yellow",
        "not configured": "yellow",
    }
    if STATE.quiet:
        for o in outcomes:
            console.print(f"{o.step}: {o.status}" + (f" ({o.reason})" if o.reason else ""))
    else:
        table = Table(title="mlready run")
        for name in ("step", "status", "run", "seconds", "note"):
            table.add_column(
                name, justify="right" if name == "seconds" else "left", no_wrap=name != "note"
            )
        for o in outcomes:
            note = o.reason if len(o.reason) <= 60 else o.reason[:57] + "..."
            table.add_row(
                o.step,
                f"[{colours[o.status]}]{o.status}[/]",
                o.run_id or "",
                f"{o.seconds:.1f}" if o.status in ("ran", "failed") else "",
                escape(note),
            )
        console.print(table)
    hard = [o for o in outcomes if o.status == "failed" and o.step != "checklist-report"]
    for o in hard:
        stopped = any(later.status == "not run" for later in outcomes)
        console.print(
            f"[bold red]{'stopped at' if stopped else 'failed'}[/] {o.step}: {escape(o.reason)}"
        )
    if report is not None:
        console.print(f"readiness report: {report}")
