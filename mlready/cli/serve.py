"""``mlready serve-batch``: score a batch with a registered model, in chunks, under an SLA."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlready.cli.state import (
    STATE,
    AllowPickleOption,
    JsonOption,
    SpecOption,
    err,
    out,
    print_table,
    quiet_verdict,
)

if TYPE_CHECKING:
    from mlready.serving import Progress, ServeResult


class OutputFormat(str, Enum):
    """How the result is printed on stdout."""

    text = "text"
    json = "json"


class Engine(str, Enum):
    """Where the chunks are scored."""

    local = "local"
    dask = "dask"


def serve_batch(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="NAME@ALIAS or NAME:VERSION (or @ALIAS, :VERSION for the spec's model). "
            "\\[default: the production alias]",
            show_default=False,
        ),
    ] = None,
    input_path: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="CSV/Parquet file or glob, or a database URL with --query. "
            "\\[default: serving.input]",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="With a database URL as --input: the SELECT to score.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Predictions file (.parquet or .csv; a folder with --engine dask). "
            "\\[default: serving.output, else predictions.parquet in the run folder]",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite an existing output mlready did not write (never the input, the "
            "spec or its data).",
        ),
    ] = False,
    quarantine: Annotated[
        bool | None,
        typer.Option(
            "--quarantine/--stop",
            help="Set invalid rows aside with the reasons and score the rest, or stop at the "
            "first invalid row. \\[default: serving.on_invalid]",
            show_default=False,
        ),
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Rows per chunk (the last chunk of a file fewer). \\[default: serving.chunk_rows]",
            show_default=False,
        ),
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Answer rows (and batches) this model version already scored.")
    ] = True,
    engine: Annotated[
        Engine, typer.Option(help="local: this machine; dask: a Dask cluster.")
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="With --engine dask: the scheduler's address (tcp://host:8786), or 'local' "
            "to start a cluster on this machine."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="What to print on stdout.")
    ] = OutputFormat.text,
    allow_pickle: AllowPickleOption = False,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Score a batch with a registered model, in chunks, within the SLA.

    Exit 1 when rows are invalid and --stop, no row is scored or too many are rejected,
    predictions are NaN, or the run is over its time budget; exit 4 when the registry holds no
    such model.
    """
    from mlready.project.steps import run_serve_batch

    loaded = STATE.load_spec(spec, allow_pickle=allow_pickle)
    with _progress() as on_progress:
        run = run_serve_batch(
            loaded,
            model=model,
            input_path=input_path,
            query=query,
            output=output,
            force=force,
            quarantine=quarantine,
            chunk_rows=chunk_rows,
            cache=cache,
            engine=engine.value,
            scheduler=scheduler,
            on_progress=on_progress,
        )
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=str))
    else:
        _print(run.result, run.run_dir)
    if not run.passed:
        raise typer.Exit(1)


@contextlib.contextmanager
def _progress() -> Iterator[Progress | None]:
    """On a terminal: rows scored so far; in CI, --quiet or a pipe: nothing."""
    if not STATE.interactive:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("Scoring: {task.completed:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task("Scoring", total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print(result: ServeResult, folder: Any) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    verdict = "[green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
    verdict += (
        f": {result.rows_scored:,} of {result.rows_in:,} rows scored, "
        f"{result.rows_rejected:,} set aside"
    )
    if quiet_verdict(result.passed, verdict, result.failures):
        return
    console = out()
    m = result.model
    table = Table(title=f"{literal(m['name'])}:{m['version']} on {literal(result.source)}")
    table.add_column("")
    table.add_column("value", justify="right")
    cache = result.cache
    looked_up = cache.get("hits", 0) + cache.get("misses", 0)
    rows = [
        ("rows in", f"{result.rows_in:,}"),
        ("scored", f"{result.rows_scored:,}"),
        ("rejected", f"{result.rows_rejected:,}"),
    ]
    if cache.get("enabled"):
        rate = cache["hits"] / looked_up if looked_up else 0.0
        rows.append(("cache hits", f"{cache['hits']:,} of {looked_up:,} ({rate:.0%})"))
        if cache.get("batch_hit"):
            rows.append(("answered by", f"run {cache['from_run']} (same bytes)"))
    else:
        rows.append(("cache", "off"))
    sla = result.sla or {}
    rows.append(("wall time", f"{result.wall_s:,.2f} s"))
    if sla.get("rows_per_s"):
        rows.append(("rows per second", f"{sla['rows_per_s']:,.0f}"))
    rows.append(("peak memory", f"{result.peak_memory_mb:,.0f} MB"))
    if sla.get("budget_s") is not None:
        met = "[green]met[/]" if sla["met"] else "[bold red]missed[/]"
        rows.append(("SLA budget", f"{sla['budget_s']:,.0f} s: {met}"))
    for name, value in rows:
        table.add_row(name, value)
    print_table(table)
    for finding in result.findings:
        colour = "red" if finding["severity"] == "error" else "yellow"
        count = finding["count"]
        console.print(
            f"[{colour}]{literal(finding['id'])}[/] ({literal(finding['description'])}): "
            f"{count:,} row{'s' if count != 1 else ''}, e.g. "
            f"{literal(', '.join(finding['sample'][:4]))}"
        )
    for warning in result.warnings:
        if not any(warning.startswith(f["id"]) for f in result.findings):
            console.print(f"[yellow]warning[/]: {literal(warning)}")
    for sent in result.alerts:
        where = ", ".join(
            f"{name} ({'sent' if d['delivered'] else 'NOT delivered: ' + str(d.get('error'))})"
            for name, d in sent["deliveries"].items()
        )
        console.print(
            f"alert [bold]{literal(sent['rule'])}[/] ({sent['severity']}, {sent['action']}) "
            f"to {literal(where)}; runbook: {literal(sent['runbook'])}"
        )
    console.print(verdict)
    for failure in result.failures:
        console.print(f"  - {literal(failure)}")
    for name, path in result.files.items():
        console.print(f"{name}: {literal(path)}")
    console.print(f"run folder: {folder}")
