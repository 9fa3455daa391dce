"""``mlready check-drift``: the current data against the training reference, with alerts."""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlready.cli.state import (
    STATE,
    JsonOption,
    SpecOption,
    out,
    print_table,
    quiet_verdict,
)

if TYPE_CHECKING:
    from mlready.drift import DriftResult


class OutputFormat(str, Enum):
    """How the result is printed on stdout."""

    text = "text"
    json = "json"


def check_drift(
    current: Annotated[
        str | None,
        typer.Option(
            help="A CSV/Parquet file (or glob) to compare, read once. \\[default: the profile the "
            "latest serve-batch run saved]",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            help="The run id of a serve-batch run whose batch profile to compare, or of a "
            "`mlready serve` run (the rows it scored online)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="NAME@ALIAS or NAME:VERSION. \\[default: with --batch, the version that scored "
            "that batch; else the production alias]",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Profile this file as the reference instead of the model's training data."
        ),
    ] = None,
    outcomes: Annotated[
        str | None,
        typer.Option(
            help="A file of the batch's true outcomes (id columns and the target): realized "
            "performance and business value."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="What to print on stdout.")
    ] = OutputFormat.text,
    test_alert: Annotated[
        bool,
        typer.Option(
            "--test-alert",
            help="Check nothing: send a test alert through every rule in monitoring.alerts to "
            "each of its channels, and record the deliveries (exit 1 when one fails).",
        ),
    ] = False,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Compare current data with the training reference, and alert with an action plan.

    Exit 1 on dataset drift or when an error-severity alert fires; exit 4 when the registry
    holds no such model.
    """
    from mlready.project.steps import run_check_drift
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    if test_alert:
        _test_alert(loaded, output_format is OutputFormat.json or STATE.json)
        return
    run = run_check_drift(
        loaded, current=current, batch=batch, model=model, reference=reference, outcomes=outcomes
    )
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=str))
    else:
        _print(run.result, run.run_dir)
    if not run.passed:
        raise typer.Exit(1)


def _test_alert(loaded: Any, as_json: bool) -> None:
    """Send and record a test alert through every rule (the readiness report reads it)."""
    from mlready.alerts import record_test_alert
    from mlready.cli.state import literal

    summary = record_test_alert(loaded)
    alerts, failed = summary["alerts"], summary["undelivered"]
    deliveries = sum(len(a["channels"]) for a in alerts)
    verdict = (
        f"[bold red]FAILED[/]: {len(failed)} of {deliveries} test alert deliveries failed"
        if failed
        else f"[green]PASSED[/]: {deliveries} test alert deliveries"
    )
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet_verdict(not failed, verdict, failed):
        for a in alerts:
            where = ", ".join(
                f"{n} ({'sent' if ok else 'NOT delivered'})" for n, ok in a["channels"].items()
            )
            out().print(
                f"test alert [bold]{literal(a['rule'])}[/] ({a['event']}): {literal(where)}"
            )
        out().print(verdict)
    if failed:
        raise typer.Exit(1)


def _print(result: DriftResult, folder: Any) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    verdict = "[bold red]DATASET DRIFT[/]" if result.dataset_drift else "[green]no dataset drift[/]"
    verdict += (
        f": {len(result.drifted)} of {len(result.features)} features drifted "
        f"({result.share_drifted:.0%}; the bar is {result.dataset_drift_share:.0%})"
    )
    if quiet_verdict(result.passed, verdict, result.failures):
        return
    console = out()
    table = Table(
        title=f"{literal(result.current['source'])} against {literal(result.reference['source'])}"
    )
    for name in ("feature", "test", "statistic", "threshold", "PSI", "drift"):
        table.add_column(
            name, justify="right" if name in ("statistic", "threshold", "PSI") else "left"
        )
    for f in [*result.features, *result.predictions]:
        stat = f["p_value"] if f["p_value"] is not None else f["statistic"]
        shown = (
            "" if stat is None else (f"p={stat:.3g}" if f["p_value"] is not None else f"{stat:.4f}")
        )
        if f.get("p_adjusted") is not None:
            shown += f" (BH {f['p_adjusted']:.3g})"
        drifted = (
            "[bold red]drifted[/]"
            if f["drifted"]
            else (f"[dim]{literal(f['note'])}[/]" if f["test"] == "none" else "no")
        )
        table.add_row(
            literal(f["column"]),
            f["test"],
            shown,
            f"{f['threshold']:g}",
            "" if f["psi"] is None else f"{f['psi']:.3f}",
            drifted,
        )
    print_table(table)
    outside = [f for f in result.features if f.get("out_of_range_share")]
    if outside:
        console.print(
            "set aside by serve-batch for a value out of range (not in the statistics above): "
            + ", ".join(f"{literal(f['column'])} {f['out_of_range_share']:.1%}" for f in outside)
        )
    correction = result.correction or {}
    if correction.get("tests"):
        console.print(
            f"p-values corrected for {correction['tests']} tests (Benjamini-Hochberg): a "
            f"feature drifts when its corrected p is under {correction['p_value']:g}"
        )
    elif sum(f["p_value"] is not None for f in result.features) > 1:
        console.print(
            "[dim]no multiple-testing correction: with many features some drift by chance "
            "(monitoring.drift.correction: benjamini_hochberg)[/]"
        )
    console.print(verdict)
    if result.performance:
        p = result.performance

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        console.print(
            f"realized {p['primary_metric']}: {fmt(p['value'])} on {p['rows']:,} labelled rows "
            f"(training: {fmt(p['training_value'])})"
        )
        business = p.get("business")
        if business:
            console.print(
                f"business value: {business['value']:,.0f} {business['currency']} "
                f"({business['per_row']:.2f} per row; training "
                + (
                    f"{business['training_per_row']:.2f})"
                    if business["training_per_row"] is not None
                    else "n/a)"
                )
            )
    for warning in [*result.warnings, *result.environment]:
        console.print(f"[yellow]warning[/]: {literal(warning)}")
    for sent in result.alerts:
        where = ", ".join(
            f"{name} ({'sent' if d['delivered'] else 'NOT delivered'})"
            for name, d in sent["deliveries"].items()
        )
        console.print(
            f"alert [bold]{literal(sent['rule'])}[/] ({sent['severity']}): {sent['action']}, owner "
            f"{literal(sent['owner'])}, to {literal(where)}\n  runbook: {literal(sent['runbook'])}"
        )
    for failure in result.failures:
        console.print(f"[bold red]FAILED[/]: {literal(failure)}")
    console.print(f"report: {folder / 'drift.html'}")
    console.print(f"run folder: {folder}")
