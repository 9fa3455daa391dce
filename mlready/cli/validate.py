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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Let --output or --quarantine overwrite files mlready did not write (never "
            "the data read, the spec or its data).",
        ),
    ] = False,
    spec: SpecOption = None,
) -> None:
    """Check data against the spec's expectations with Great Expectations.

    Exit 1 when a check fails. With --infer, write the expectations a data set passes instead,
    to review (with --from FILE, no spec is needed).
    """
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    source = _sql_source(data, query)
    if infer:
        from mlready.io import atomic_write_text, guard_outputs, record_outputs
        from mlready.validation.infer import infer_expectations

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
        if output is not None:
            guard_outputs(
                [output],
                artifacts_dir=loaded.spec.project.artifacts_dir,
                protected=[*_files(reference), *loaded.protected_paths()],
                force=force,
            )
        text = infer_expectations(
            loaded,
            source=infer_from or (None if source else data),
            sql=None if infer_from else source,
            margin=margin,
        )
        if output is not None:
            atomic_write_text(output, text)
            record_outputs([output], artifacts_dir=loaded.spec.project.artifacts_dir)
            say(f"[green]wrote[/] {output}: review it, then paste it into {loaded.path.name}")
        if STATE.json:
            typer.echo(json.dumps({"expectations": text, "output": output and str(output)}))
        elif output is None:
            typer.echo(text, nl=False)
        return
    _refuse_options_of_the_other_mode(
        False,
        {
            "--from": infer_from,
            "--output": output,
            "--margin": margin != DEFAULT_MARGIN,
        },
    )

    from mlready.io import atomic_write_json, atomic_write_text
    from mlready.runs import start_run
    from mlready.validation import validate_data as run_validation
    from mlready.validation.report import junit_xml, render_html

    with start_run(loaded.spec.project.artifacts_dir, "validate-data", loaded) as run:
        with _progress(chunked=chunk_rows is not None) as on_progress:
            result = run_validation(
                loaded,
                data=None if source else data,
                sql=source,
                environment=environment.value if environment else None,
                quarantine_dir=quarantine,
                chunk_rows=chunk_rows,
                on_progress=on_progress,
                force=force,
            )
        atomic_write_json(run.dir / "validation.json", result.to_dict())
        atomic_write_text(run.dir / "junit.xml", junit_xml(result))
        if report:
            atomic_write_text(
                run.dir / "validation.html", render_html(result, loaded.spec.project.name)
            )
        run.summary.update(
            source=result.source,
            environment=result.environment,
            rows=result.rows,
            checks=len(result.results),
            failed=len(result.failed_errors),
            warnings=len(result.warnings),
            passed=result.passed,
            fingerprint=result.fingerprint,
            quarantined=(result.quarantine or {}).get("rejected_rows"),
            contract_hash=loaded.section_hash("data", "expectations"),
        )
        if not result.passed:
            run.fail(1)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    elif output_format is OutputFormat.junit:
        typer.echo(junit_xml(result))
    else:
        _print_table(result, run.dir / "validation.html" if report else None, run.dir)
    if not result.passed:
        raise typer.Exit(1)


def _files(path: str | None) -> list[str]:
    """The files a path or glob names (none for a database URL)."""
    import glob

    if path is None or "://" in path:
        return []
    return glob.glob(path) if glob.has_magic(path) else [path]


def _sql_source(
    data: str | None, query: str | None, option: str = "--data"
) -> tuple[str, str] | None:
    from mlready.errors import UsageError

    if data is not None and "://" in data:
        if not query:
            raise UsageError(f"{option} {data} is a database URL: add --query 'SELECT ...'")
        return data, query
    if query:
        raise UsageError(f"--query goes with a database URL as {option} (e.g. sqlite:///x.db)")
    return None


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
