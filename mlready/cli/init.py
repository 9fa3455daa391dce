"""Write a commented starter mlready.yaml (and example data, unless you bring your own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlready.cli.state import STATE, JsonOption, say


def init(
    directory: Annotated[
        Path, typer.Argument(help="Project folder (created if missing).", show_default=True)
    ] = Path("."),
    data: Annotated[
        Path | None,
        typer.Option(help="Your training data (CSV or Parquet); its columns fill the spec."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="With --data: the column to predict.")] = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite an existing mlready.yaml (or CI configuration).")
    ] = False,
    ci: Annotated[
        str | None,
        typer.Option(
            help="Also write a CI configuration (github or gitlab) that runs the pipeline on "
            "pushes to the default branch and on pull requests. In a folder with a spec "
            "already, only that is written.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a commented starter mlready.yaml that passes `mlready spec check` (and, with --ci,
    a CI workflow for it)."""
    from mlready.ci import write_ci
    from mlready.cli.state import literal
    from mlready.scaffold import ScaffoldResult, scaffold_project
    from mlready.spec.loading import find_spec_path

    existing = directory / "mlready.yaml"
    if ci is not None and STATE.spec is not None:  # `mlready --spec sub init --ci github`
        result = ScaffoldResult(spec_path=find_spec_path(STATE.spec), written=[])
    elif ci is not None and existing.exists() and not data:
        result = ScaffoldResult(spec_path=existing, written=[])
    else:
        result = scaffold_project(directory, data=data, target=target, force=force)
    if ci is not None:
        result.written.extend(write_ci(result.spec_path, ci, force=force))
    if STATE.json:
        import json

        typer.echo(
            json.dumps(
                {
                    "spec": str(result.spec_path),
                    "written": [str(p) for p in result.written],
                    "notes": result.notes,
                },
                indent=2,
            )
        )
        return
    for note in result.notes:
        say(literal(note))
    for path in result.written:
        say(f"[green]wrote[/] {path}")
    say(f"next: edit {result.spec_path} then run `mlready --spec {result.spec_path} spec check`")
