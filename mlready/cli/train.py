"""``mlready train``: fit the spec's pipeline, cross-validate it, score its business value."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlready.cli.state import (
    STATE,
    JsonOption,
    SpecOption,
    err,
    out,
    print_table,
    quiet_verdict,
)

if TYPE_CHECKING:
    from mlready.training import Progress, TrainResult


class OutputFormat(str, Enum):
    """How the result is printed on stdout."""

    text = "text"
    json = "json"


def train(
    check_reproducible: Annotated[
        bool,
        typer.Option(
            "--check-reproducible",
            help="Train a second time from scratch and fail unless both give the same results.",
        ),
    ] = False,
    no_importance: Annotated[
        bool,
        typer.Option(
            "--no-importance",
            help="Skip measuring each feature's contribution (permutation importance).",
        ),
    ] = False,
    revalidate: Annotated[
        bool,
        typer.Option(
            "--revalidate",
            help="Validate the training data even when a passing validate-data run of the "
            "last day already checked the same bytes against the same contract.",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="What to print on stdout.")
    ] = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Fit the spec's pipeline, cross-validate it, and write the model with its metadata.

    Exit 1 when a threshold is missed or the training data fails its contract.
    """
    from mlready.io import atomic_write_json, atomic_write_text
    from mlready.runs import start_run
    from mlready.spec import load_spec
    from mlready.training import train as run_training

    loaded = load_spec(STATE.spec_path(spec))
    with start_run(loaded.spec.project.artifacts_dir, "train", loaded) as run:
        with _progress() as on_progress:
            result = run_training(
                loaded,
                run.dir,
                run_id=run.run_id,
                check_reproducible=check_reproducible,
                importance=not no_importance,
                revalidate=revalidate,
                on_progress=on_progress,
                logger=run.logger,
            )
        if result.validation_failed:
            from mlready.validation.report import render_html

            atomic_write_json(run.dir / "validation.json", result.validation.to_dict())
            atomic_write_text(
                run.dir / "validation.html",
                render_html(result.validation, loaded.spec.project.name),
            )
        run.summary.update(_summary(result))
        for warning in result.warnings:
            run.logger.warning("%s", warning)
        if not result.passed:
            run.fail(1)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(_json(result, run.dir), indent=2, default=str))
    else:
        _print(result, run.dir)
    if not result.passed:
        raise typer.Exit(1)


def _summary(result: TrainResult) -> dict[str, Any]:
    """What the run log keeps of a training run (the registry and the report read it)."""
    if result.validation_failed:
        return {"passed": False, "stage": "validation", "failures": result.failures[:20]}
    m = result.metadata
    v = m["validation"]
    primary = v["primary_metric"]
    business = m.get("business") or {}
    return {
        "passed": result.passed,
        "failures": result.failures,
        "model": m["model"]["type"],
        "model_sha256": m["artifact"]["sha256"],
        "primary_metric": primary,
        "primary_value": v["judged_metrics"].get(primary),
        "judged_on": v["judged_on"],
        "decision_threshold": m.get("decision_threshold"),
        "business_value": (business.get("cv") or {}).get("best_threshold", {}).get("value")
        if "cv" in business
        else business.get("cv_value"),  # regression: minus the cost of the errors
        "business_gain": business.get("gain_over_baseline"),
        "data_fingerprint": m["data"]["fingerprint"],
        "spec_hash": m["spec"]["hash"],
        "spec_sections": m["spec"]["sections"],
        "reproducible": (m.get("reproducibility") or {}).get("identical"),
        "warnings": len(result.warnings),
        "skew": None if result.skew is None else result.skew.to_dict(),
    }


def _json(result: TrainResult, folder: Any) -> dict[str, Any]:
    if result.validation_failed:
        return {
            "passed": False,
            "stage": "validation",
            "failures": result.failures,
            "run_dir": str(folder),
            "validation": result.validation.to_dict(),
        }
    return {
        "passed": result.passed,
        "failures": result.failures,
        "warnings": result.warnings,
        "run_dir": str(folder),
        "files": {k: str(v) for k, v in result.files.items()},
        "metadata": result.metadata,
    }


@contextlib.contextmanager
def _progress() -> Iterator[Progress | None]:
    """On a terminal: a bar over the folds and phases; in CI, --quiet or a pipe: nothing."""
    if not STATE.interactive:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task("Training", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)

        yield update


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _print(result: TrainResult, folder: Any) -> None:
    from rich.table import Table

    from mlready.cli.state import literal

    console = out()
    if result.validation_failed:
        verdict = (
            f"[bold red]FAILED[/]: the training data failed {len(result.failures)} "
            "validation checks; nothing was fitted"
        )
        if quiet_verdict(False, verdict, result.failures[:10]):
            return
        console.print(verdict)
        for failure in result.failures[:10]:
            console.print(f"  - {literal(failure)}")
        console.print(f"validation report: {folder / 'validation.html'}")
        console.print(f"run folder: {folder}")
        return
    m = result.metadata
    verdict = "[green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
    verdict += f" in {m['training_seconds']:.1f} s"
    if quiet_verdict(result.passed, verdict, result.failures):
        return
    v = m["validation"]
    table = Table(title=f"{literal(m['model_name'])}: {literal(m['model']['type'])}")
    table.add_column("metric")
    table.add_column("threshold")
    table.add_column("CV mean ± std", justify="right")
    if v["holdout_metrics"]:
        table.add_column("holdout", justify="right")
    table.add_column("result")
    bars = {t["metric"]: t for t in v["thresholds"]}
    for name in v["metrics"]:
        s = v["cv"][name]
        check = bars.get(name)
        row = [
            name,
            f"{check['direction']} {check['bar']}" if check else "",
            f"{_fmt(s['mean'])} ± {_fmt(s['std'])}",
        ]
        if v["holdout_metrics"]:
            row.append(_fmt(v["holdout_metrics"].get(name)))
        row.append(
            ("[green]passed[/]" if check["passed"] else "[bold red]failed[/]") if check else ""
        )
        table.add_row(*row)
    print_table(table)
    for b in v["baselines"]:
        compared = {
            "model better": "[green]model better[/]",
            "as good": "[yellow]as good as the model[/]",
            "baseline better": "[yellow]better than the model[/]",
        }.get(b["verdict"], b["verdict"])
        console.print(
            f"baseline {b['kind']}: {v['primary_metric']} {_fmt(b['value'])} "
            f"against {_fmt(b['model_value'])}: {compared}"
        )
    business = m.get("business") or {}
    if "cv" in business:
        best, default = business["cv"]["best_threshold"], business["cv"]["default_threshold"]
        currency = business["currency"]
        console.print(
            f"business value: {best['value']:,.0f} {currency} at threshold "
            f"{best['threshold']:.3f} (the value-maximising one) against "
            f"{default['value']:,.0f} {currency} at the default {default['threshold']:g}, "
            f"on {business['cv']['rows']:,} validated rows"
        )
    if "cv_value" in business:
        currency = business["currency"]
        console.print(
            f"business value: {business['cv_value']:,.0f} {currency} (cost of the errors) "
            f"against {business['baseline_value']:,.0f} {currency} with no model: the model "
            f"saves {business['gain_over_baseline']:,.0f} {currency}"
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {literal(warning)}")
    reused = m["data"]["validation"].get("validated_by_run")
    if reused:
        console.print(
            f"training data: validated by validate-data run {reused} (same bytes, same contract); "
            "--revalidate checks it again"
        )
    console.print(verdict)
    for failure in result.failures:
        console.print(f"  - {literal(failure)}")
    if not result.passed:
        console.print("The artifacts are written but marked as failing: register refuses them.")
    console.print(f"report: {result.files['report']}")
    console.print(f"run folder: {folder}")
