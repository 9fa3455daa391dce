"""``mlready runs verify``: check the run log's hash chain, its records' files and their project."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlready.cli.help import App
from mlready.cli.state import STATE, JsonOption, SpecOption, err, quiet_verdict, say

app = App(help="Check the run log (the evidence every report rests on).", no_args_is_help=True)


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
