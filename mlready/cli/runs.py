"""``mlready runs list|compare|verify``: browse the run log, compare two runs, check the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlready.cli.help import App
from mlready.cli.state import STATE, JsonOption, SpecOption, err, quiet_verdict, say

app = App(
    help="List the runs, compare two of them, and check the run log they are recorded in.",
    no_args_is_help=True,
)


@app.command("list")
def list_runs(
    command: Annotated[
        str | None,
        typer.Option(
            "--command",
            "-c",
            help="Only the runs of this command (train, validate-data, ...).",
            show_default=False,
        ),
    ] = None,
    last: Annotated[
        int | None, typer.Option(min=1, help="Only the newest N runs.", show_default=False)
    ] = None,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """The runs in the run log, oldest first: when, how long, how each ended, what it found."""
    from rich.table import Table

    from mlready.cli.state import literal, out, print_table
    from mlready.project import Project

    project = Project(STATE.spec_path(spec))
    table = project.runs(command, last=last)
    if STATE.json:
        typer.echo(json.dumps(table.to_dict(), indent=2))
        return
    if not table.entries:
        what = f"{command} runs" if command else "runs"
        say(f"no {what} in {table.log} yet: run `mlready run` (or a step) first")
        return
    console = out()  # an answer: printed under --quiet too
    count = len(table.entries)
    console.print(
        literal(f"{table.project}: {count} run{'' if count == 1 else 's'} in {table.log}")
    )
    view = Table()
    for column in ("run", "command", "started", "seconds", "status", "by", "result"):
        view.add_column(column, justify="right" if column == "seconds" else "left")
    colours = {"passed": "green", "failed": "bold red", "error": "bold red"}
    for entry in table.entries:
        who = entry.user + (f" ({entry.ci})" if entry.ci else "")
        view.add_row(
            literal(entry.run_id),
            literal(entry.step),
            literal(entry.started_at),
            f"{entry.duration_s:,.1f}",
            f"[{colours.get(entry.status, 'yellow')}]{literal(entry.status)}[/]",
            literal(who),
            literal(entry.headline),
        )
    print_table(view, console)


@app.command("compare")
def compare(
    first: Annotated[
        str, typer.Argument(help="A run: its id (or a prefix of it), COMMAND or COMMAND~N.")
    ],
    second: Annotated[str, typer.Argument(help="The run to compare it with.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the items that did not change.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the comparison as an HTML page here."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --html overwrite a file mlready did not write.")
    ] = False,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """What differs between two runs of a command: metrics, parameters, features, data, spec.

    Their results and durations are compared too.
    Name a run by its id, a prefix of it, or its command: `train` is the newest train run,
    `train~1` the one before it.
    """
    from mlready.cli.state import literal, out, print_changes
    from mlready.project import Project

    result = Project(STATE.spec_path(spec)).compare(first, second, html=html, force=force)
    if STATE.json:
        payload = result.to_dict()
        payload["html"] = None if html is None else str(html)
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    a, b = result.a, result.b
    console = out()  # an answer: printed under --quiet too
    console.print(
        f"{a.step} runs compared: a {a.run_id} ({a.started_at}, {a.status}), "
        f"b {b.run_id} ({b.started_at}, {b.status})"
    )
    rows = [
        (section, c.key, c.a, c.b, c.change)
        for section, items in result.sections.items()
        for c in items
        if show_all or c.changed
    ]
    if rows:
        print_changes(None, ("a", "b"), rows)
    for note in result.notes:
        console.print(f"[yellow]note[/]: {literal(note)}")
    if result.same:
        console.print("no change: the two runs do not differ")
    else:
        more = "" if show_all else "; --all lists the items that did not change"
        console.print(f"{result.differences} difference(s){more}")
    if html is not None:
        say(f"comparison: {literal(html)}")


@app.command("verify")
def verify(
    spec: SpecOption = None,
    no_files: Annotated[
        bool,
        typer.Option("--no-files", help="Check the chain only, not the runs' files (faster)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the run log: its hash chain, the files its runs wrote, and their project.

    Every record's hash, the chain that links it to the one before, the files its run wrote,
    and that this project wrote it. Exit 4 when anything was altered.
    """
    from mlready.cli.state import literal
    from mlready.errors import DataError
    from mlready.runs import identity_of, verify_run_log
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    artifacts = loaded.spec.project.artifacts_dir
    identity = identity_of(loaded)
    result = verify_run_log(artifacts, identity, check_artifacts=not no_files)
    trusted = len(result.records)
    problems = [str(problem) for problem in result.problems[:20]]
    if len(result.problems) > 20:
        problems.append(f"... and {len(result.problems) - 20} more")
    verdict = f"{result.path}: {trusted} record{'' if trusted == 1 else 's'} hold"
    if result.problems:
        verdict += f", {len(result.problems)} problem(s)"
    if not quiet_verdict(not result.problems, verdict, problems):
        say(verdict)
        for problem in problems:
            say(f"  [red]✗[/] {literal(problem)}")
    error = None
    if result.problems:
        if result.altered:
            error = DataError(
                f"the run log {result.path} was altered ({len(result.problems)} problem(s) above): "
                "records that do not hold are left out of every report; restore the log from a "
                "backup, or move it aside and run the pipeline again"
            )
        else:
            error = DataError(
                f"the run log {result.path} has {result.unchained} record(s) without a hash "
                "(written by hand, or by an mlready older than the hash chain); they are not "
                "scored: run the pipeline again to record trusted evidence"
            )
    if STATE.json:
        payload = {**result.to_dict(), "ok": error is None}
        if error is not None:
            payload.update(error=str(error), exit_code=error.exit_code)
        typer.echo(json.dumps(payload, indent=2))
        if error is not None:
            err().print(f"[bold red]error:[/] {literal(str(error))}")
            raise typer.Exit(error.exit_code)
    elif error is not None:
        raise error
