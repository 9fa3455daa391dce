"""``mlready spec check|schema``: validate the project spec, print its JSON Schema."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlready.cli.help import App
from mlready.cli.state import STATE, JsonOption, SpecOption, say

app = App(help="Check the project spec, or print its JSON Schema.", no_args_is_help=True)


@app.command("check")
def check(
    spec: SpecOption = None,
    no_files: Annotated[
        bool, typer.Option("--no-files", help="Skip checking that data files and estimators exist.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Validate mlready.yaml: keys, types, values, data files and estimators (exit 3 if invalid)."""
    from mlready.spec import load_spec
    from mlready.spec.summary import summarize

    loaded = load_spec(STATE.spec_path(spec), check_files=not no_files)
    if STATE.json:
        typer.echo(
            json.dumps(
                {
                    "valid": True,
                    "spec": str(loaded.path),
                    "project": loaded.spec.project.name,
                    "spec_hash": loaded.spec_hash,
                    "summary": list(summarize(loaded)),
                },
                indent=2,
            )
        )
        return
    say(f"[green]✓[/] {loaded.path} is a valid project spec")
    for line in summarize(loaded):
        say(f"  {line}")


@app.command("schema")
def schema(
    indent: Annotated[int, typer.Option(help="Indentation of the JSON.", min=0, max=8)] = 2,
    as_json: JsonOption = False,
) -> None:
    """Print the JSON Schema of mlready.yaml, for editors and YAML language servers.

    It is JSON already, so --json changes nothing.
    """
    from mlready.spec import json_schema

    typer.echo(json.dumps(json_schema(), indent=indent or None))
