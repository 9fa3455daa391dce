"""``mlready validate-data``: check data against the spec's contract with Great Expectations."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlready.cli.state import (
    STATE,
    JsonOption,
    SpecOption,
    err,
    out,
    print_table,
    quiet_verdict,
    say,
)

if TYPE_CHECKING:
    from mlready.spec import LoadedSpec
    from mlready.validation.checks import CheckResult
    from mlready.validation.result import ValidationResult


DEFAULT_MARGIN = 0.1


class OutputFormat(str, Enum):
    """How the result is printed on stdout."""

    text = "text"
    json = "json"
    junit = "junit"


class Environment(str, Enum):
    """Which expectations apply."""

    training = "training"
    serving = "serving"


def validate_data(
    data: Annotated[
        str | None,
        typer.Option(
            help="CSV/Parquet file or glob, or a database URL with --query. "
            "\\[default: the spec's training data]",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="With a database URL as --data: the SELECT to validate.")
    ] = None,
    environment: Annotated[
        Environment | None,
        typer.Option(
            help="training or serving expectations. \\[default: training for the "
            "spec's training data, serving for any other --data]",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="What to print on stdout.")
    ] = OutputFormat.text,
    as_json: JsonOption = False,
    report: Annotated[bool, typer.Option(help="Write the HTML report in the run folder.")] = True,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            help="Write rows failing row-level checks (with the reasons) and the "
            "clean rows to this folder, and go on with the clean rows."
        ),
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            help="Validate in chunks of this many rows, for files larger than memory.", min=1
        ),
    ] = None,
    infer: Annotated[
        bool, typer.Option("--infer", help="Write expectations inferred from a reference data set.")
    ] = False,
    infer_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="With --infer: the reference data. \\[default: training data]",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --infer: write the YAML here.")
    ] = None,
    margin: Annotated[
        float, typer.Option(help="With --infer: widen numeric ranges by this share.", min=0)
    ] = DEFAULT_MARGIN,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="With --infer: write the expectations into the spec, for the columns it does "
            "not declare yet (with --force, for every column, replacing its rules).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Let --output or --quarantine overwrite files mlready did not write (never "
            "the data read, the spec or its data); with --write, replace the spec's "
            "expectations.",
        ),
    ] = False,
    spec: SpecOption = None,
) -> None:
    """Check data against the spec's expectations with Great Expectations.

    Exit 1 when a check fails. With --infer, write the expectations a data set passes instead,
    to review (with --from FILE, no spec is needed).
    """
    from mlready.project.steps import sql_source
    from mlready.spec import load_spec

    source = sql_source(data, query)
    if infer:
        _refuse_options_of_the_other_mode(
            True,
            {
                "--quarantine": quarantine,
                "--chunk-rows": chunk_rows,
                "--format": output_format is not OutputFormat.text,
                "--no-report": not report,
                "--environment": environment,
            },
        )
        reference = infer_from or (None if source else data)
        sql = None if infer_from else source
        _infer(spec, reference, sql, output, margin, write=write, force=force)
        return
    _refuse_options_of_the_other_mode(
        False,
        {
            "--from": infer_from,
            "--output": output,
            "--margin": margin != DEFAULT_MARGIN,
            "--write": write,
        },
    )
    loaded = load_spec(STATE.spec_path(spec))

    from mlready.project.steps import run_validate_data
    from mlready.validation.report import junit_xml

    with _progress(chunked=chunk_rows is not None) as on_progress:
        run = run_validate_data(
            loaded,
            data=data,
            query=query,
            environment=environment.value if environment else None,
            quarantine=quarantine,
            chunk_rows=chunk_rows,
            report=report,
            force=force,
            on_progress=on_progress,
        )
    result = run.result
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=str))
    elif output_format is OutputFormat.junit:
        typer.echo(junit_xml(result))
    else:
        _print_table(result, run.report, run.run_dir)
    if not result.passed:
        raise typer.Exit(1)


def _infer(
    spec: Path | None,
    reference: str | None,
    sql: tuple[str, str] | None,
    output: Path | None,
    margin: float,
    *,
    write: bool,
    force: bool,
) -> None:
    """--infer: the contract a data set passes, printed, written to --output, or (--write)
    put into the spec. Inferring from a named file or query needs no spec."""
    from mlready.cli.state import literal
    from mlready.io import atomic_write_text, guard_outputs, record_outputs
    from mlready.validation.infer import infer_from_data, write_into_spec

    loaded = _spec_to_infer_with(spec, named_data=reference is not None or sql is not None)
    if write and loaded is None:
        from mlready.errors import SpecError

        raise SpecError(
            "--write puts the expectations into the project spec, and there is none at "
            "./mlready.yaml",
            hint="run `mlready init` first, pass --spec PATH, or write them to a file with -o",
        )
    # with no spec, the outputs mlready wrote are remembered where a spec here would keep them
    artifacts = Path(loaded.spec.project.artifacts_dir) if loaded else Path(".mlready")
    if output is not None:
        protected: list[Path | str] = [*_files(reference)]
        if loaded is not None:
            protected += loaded.protected_paths()
        guard_outputs([output], artifacts_dir=artifacts, protected=protected, force=force)
    contract = infer_from_data(loaded, source=reference, sql=sql, margin=margin)
    text = contract.to_yaml()
    if output is not None:
        atomic_write_text(output, text)
        record_outputs([output], artifacts_dir=artifacts)
        where = (
            f"paste it into {loaded.path.name} (or infer again with --write)"
            if loaded
            else "paste it into a spec (mlready init writes one)"
        )
        say(f"[green]wrote[/] {literal(output)}: review it, then {where}")
    update = None
    if write and loaded is not None:
        update = write_into_spec(loaded, contract, replace=force)
        how = (
            "replaced its expectations"
            if update.replaced
            else f"kept its {update.rules_kept} rules and added {update.rules_added}"
        )
        say(
            f"[green]wrote[/] the expectations inferred from {literal(contract.source)} into "
            f"{literal(update.path)}: {how} ({len(update.columns_added)} new columns); review "
            "the change, then run `mlready validate-data`"
        )
    if STATE.json:
        payload: dict[str, object] = {"expectations": text, "output": output and str(output)}
        if update is not None:
            payload["spec"] = {
                "path": str(update.path),
                "replaced": update.replaced,
                "columns_added": update.columns_added,
                "rules_added": update.rules_added,
                "rules_kept": update.rules_kept,
            }
        typer.echo(json.dumps(payload))
    elif output is None and not write:
        typer.echo(text, nl=False)


def _spec_to_infer_with(spec: Path | None, *, named_data: bool) -> LoadedSpec | None:
    """The spec, if there is one: with no --spec and no ./mlready.yaml, inferring from named
    data goes on without one (anything else still needs the spec, and says so)."""
    from mlready.errors import SpecError
    from mlready.spec import DEFAULT_SPEC_NAME, load_spec

    path = STATE.spec_path(spec)
    if path is None and not Path(DEFAULT_SPEC_NAME).exists():
        if named_data:
            return None
        raise SpecError(
            f"no project spec at ./{DEFAULT_SPEC_NAME} to take the training data from",
            hint="name the data to infer from with --from FILE (no spec needed), run "
            "`mlready init`, or pass --spec PATH",
        )
    return load_spec(path)


def _files(path: str | None) -> list[str]:
    """The files a path or glob names (none for a database URL)."""
    import glob

    if path is None or "://" in path:
        return []
    return glob.glob(path) if glob.has_magic(path) else [path]


@contextlib.contextmanager
def _progress(chunked: bool) -> Iterator[Callable[[int], None] | None]:
    """On a terminal: a spinner, or rows done so far when validating in chunks; else nothing."""
    if not STATE.interactive:
        yield None
        return
    if not chunked:
        with err().status("Validating data with Great Expectations"):
            yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("Validating in chunks: {task.completed:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task("validate", total=None)
        yield lambda rows: bar.update(task, completed=rows)


def _refuse_options_of_the_other_mode(infer: bool, options: dict[str, object]) -> None:
    """--infer writes a contract and validates nothing: options of one mode refuse the other."""
    from mlready.errors import UsageError

    used = ", ".join(flag for flag, value in options.items() if value)
    if used and infer:
        raise UsageError(f"--infer writes a contract and validates nothing: drop {used}")
    if used:
        raise UsageError(f"{used}: only with --infer; add --infer, or drop them")


def _failure(item: CheckResult) -> str:
    """One failed check as a line: what it expects, and what it found."""
    row = item.to_dict()
    text = f"{row['id']}: {row['description']}"
    if row["error"]:
        return f"{text}: could not run: {row['error']}"
    if row["unexpected_count"]:
        text += f" ({row['unexpected_count']:,} unexpected"
        return text + (f", e.g. {', '.join(row['sample'][:3])})" if row["sample"] else ")")
    return text + (f" (observed {row['observed']})" if row["observed"] is not None else "")


def _print_table(result: ValidationResult, report: Path | None, folder: Path) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    verdict = "[green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
    failed = f"{len(result.failed_errors)} failed"
    if result.passed and result.failed_errors:
        verdict = "[green]PASSED after quarantine[/]"
        failed += " (their rows are set aside)"
    verdict += f": {len(result.results)} checks, {failed}, {len(result.warnings)} warnings"
    if quiet_verdict(result.passed, verdict, [_failure(r) for r in result.blocking]):
        return
    table = Table(
        title=f"{literal(result.source)} ({result.environment}, {result.rows:,} rows)",
        show_lines=False,
    )
    table.add_column("result")
    table.add_column("check")
    table.add_column("expectation")
    table.add_column("unexpected", justify="right")
    table.add_column("bad values")
    styles = {"passed": "green", "failed": "bold red", "warning": "yellow"}
    shown = [r for r in result.ordered() if STATE.verbose or not r.passed]
    for item in shown:
        row = item.to_dict()
        unexpected = f"{row['unexpected_count']:,}" if row["unexpected_count"] else ""
        detail = ", ".join(row["sample"][:5])
        if row["error"]:
            detail = f"could not run: {row['error']}"
        elif row["observed"] is not None and row["status"] != "passed" and not detail:
            detail = f"observed {row['observed']}"
        table.add_row(
            f"[{styles[row['status']]}]{row['status']}[/]",
            literal(row["id"]),
            literal(row["description"]),
            unexpected,
            literal(detail),
        )
    console = out()
    if shown:
        print_table(table)
    hidden = len(result.results) - len(shown)
    if hidden:
        console.print(f"[green]{hidden} checks passed[/] (--verbose lists them)")
    console.print(verdict)
    if result.quarantine:
        q = result.quarantine
        console.print(
            f"quarantined {q['rejected_rows']:,} rows -> {literal(q['rejected_path'])}; "
            f"clean rows -> {literal(q['clean_path'])}"
        )
    if report is not None:
        console.print(f"report: {report}")
    console.print(f"run folder: {folder}")
