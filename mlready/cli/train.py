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
    allow_pickle: Annotated[
        bool,
        typer.Option(
            "--allow-pickle",
            help="Store the model as model.joblib (pickle, which runs code when it loads) "
            "instead of model.skops: for a model skops cannot store. The same as "
            "model.allow_pickle: true.",
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
    from mlready.project.steps import run_train

    loaded = STATE.load_spec(spec, allow_pickle=allow_pickle)
    with _progress() as on_progress:
        run = run_train(
            loaded,
            check_reproducible=check_reproducible,
            importance=not no_importance,
            revalidate=revalidate,
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
    """On a terminal: the phase, its bar, the time it took so far and its estimated time left (from
    its pace so far); in CI, --quiet or a pipe: nothing."""
    if not STATE.interactive:
        yield None
        return
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskID,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        current: dict[str, Any] = {"label": None, "task": None}

        def update(label: str, done: int, total: int) -> None:
            # each phase is its own task: its pace, hence its time left, is its own
            if label != current["label"]:
                if current["task"] is not None:
                    bar.remove_task(current["task"])
                current["label"] = label
                current["task"] = bar.add_task(label, total=max(total, 1))
            task: TaskID = current["task"]
            bar.update(task, completed=done, total=max(total, 1), refresh=True)

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
    if m["artifact"].get("format") == "joblib":
        console.print(
            "[yellow]model stored as model.joblib (pickle)[/]: serve-batch and the promotion "
            "gate load it only with --allow-pickle (or model.allow_pickle: true)"
        )
    console.print(f"report: {result.files['report']}")
    console.print(f"run folder: {folder}")
