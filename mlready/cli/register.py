"""``mlready register`` and ``mlready registry list|show|promote|rollback|diff|history``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlready.cli.help import App
from mlready.cli.state import (
    STATE,
    AllowPickleOption,
    JsonOption,
    SpecOption,
    out,
    print_table,
    quiet_verdict,
    say,
)

if TYPE_CHECKING:
    from mlready.registry import Registry, Version
    from mlready.spec import LoadedSpec

app = App(
    help="Look at and change the model registry: versions, aliases, their history.",
    no_args_is_help=True,
)


class OutputFormat(str, Enum):
    """How the result is printed on stdout."""

    text = "text"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="What to print on stdout.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Move the alias even if the gate refuses (needs --reason).")
]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why: recorded in the alias history (required with --force).")
]


def _actor() -> str:
    from mlready.project.steps import actor

    return actor()


def register(
    run: Annotated[
        str | None,
        typer.Option(help="The train run to register. \\[default: the newest passing one]"),
    ] = None,
    allow_failing: Annotated[
        bool, typer.Option("--allow-failing", help="Register a run that failed its checks.")
    ] = False,
    reason: ReasonOption = None,
    promote: Annotated[
        str | None,
        typer.Option(
            help="Then move this alias to the version (production goes through the gate)."
        ),
    ] = None,
    force: ForceOption = False,
    allow_pickle: AllowPickleOption = False,
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Store a trained model as the next version of the spec's model, with all its metadata.

    With --promote, then move an alias to it through the promotion gate (exit 1 when the gate
    refuses). Exit 4 when there is no passing train run to register.
    """
    from mlready.project.steps import check_register_options, run_register

    # usage first: a wrong option combination is exit 2 before the spec is read
    check_register_options(allow_failing=allow_failing, reason=reason, promote=promote, force=force)
    loaded = STATE.load_spec(spec, allow_pickle=allow_pickle)
    recorded = run_register(
        loaded,
        run=run,
        allow_failing=allow_failing,
        reason=reason,
        promote=promote,
        force=force,
    )
    registration = recorded.result
    version, created, decision = (
        registration.version,
        registration.created,
        registration.decision,
    )
    name = registration.model
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(recorded.to_dict(), indent=2))
    else:
        verb = "registered" if created else "already registered as"
        say(
            f"[green]{verb}[/] {name}:{version.version} (run {version.run_id}, sha256 "
            f"{version.sha256[:12]}…); alias candidate -> {version.version}"
            if created
            else f"{verb} {name}:{version.version} (same artifact, nothing changed)"
        )
        if version.artifact_uri.endswith(".joblib"):
            say(
                f"[yellow]note[/]: {name}:{version.version} is stored as joblib (pickle): "
                "serve-batch and the gate load it only with --allow-pickle"
            )
        if decision is not None:
            _print_decision(decision)
    if not recorded.passed:
        raise typer.Exit(1)


def _promote(
    loaded: LoadedSpec,
    registry: Registry,
    version: Version,
    alias: str,
    force: bool,
    reason: str | None,
) -> dict[str, Any]:
    from mlready.registry.gate import promote

    return promote(loaded, registry, version, alias, force=force, reason=reason, actor=_actor())


def _print_decision(decision: dict[str, Any]) -> None:
    from mlready.cli.state import literal

    if decision["accepted"]:
        mark = "[yellow]forced[/]" if decision["forced"] else "[green]promoted[/]"
        say(f"{mark}: {decision['alias']} -> {decision['version']}: {literal(decision['reason'])}")
    else:
        verdict = (
            f"[bold red]refused[/]: {decision['alias']} stays where it was: "
            f"{literal(decision['reason'])} (override with --force --reason TEXT)"
        )
        if not quiet_verdict(False, verdict):
            out().print(verdict)


def _open(spec: Path | None, allow_pickle: bool = False) -> tuple[LoadedSpec, Registry]:
    from mlready.registry import open_registry

    loaded = STATE.load_spec(spec, allow_pickle=allow_pickle)
    return loaded, open_registry(loaded)


def _no_registry_for_the_store(loaded: LoadedSpec) -> None:
    """An empty registry over a store that holds models: the database was lost (exit 4)."""
    from mlready.errors import DataError
    from mlready.registry import registry_location

    url, store = registry_location(loaded)
    files = [p for p in store.rglob("*") if p.is_file()] if store.is_dir() else []
    if files:
        raise DataError(
            f"the registry ({url}) lists no version of {loaded.spec.model_name}, but the artifact "
            f"store {store} holds {len(files):,} file(s): the registry is missing or was deleted; "
            "restore it from a backup, or register the train runs again"
        )


def _ref(text: str | None, loaded: LoadedSpec, default_alias: str = "production") -> Any:
    from mlready.registry import parse_ref

    return parse_ref(text or f"@{default_alias}", loaded.spec.model_name)


@app.command("list")
def list_versions(
    model: Annotated[str | None, typer.Option(help="\\[default: the spec's model]")] = None,
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """The versions of the model, newest last, with their aliases."""
    from rich.table import Table

    from mlready.registry import check_name

    loaded, registry = _open(spec)
    name = check_name(model or loaded.spec.model_name)
    versions = registry.list_versions(name)
    aliases = registry.aliases_of(name)
    if output_format is OutputFormat.json or STATE.json:
        payload = {
            "model": name,
            "aliases": aliases,
            "versions": [v.summary() for v in versions],
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    if not versions:
        say(f"no versions of '{name}' yet: run `mlready train`, then `mlready register`")
        return
    by_version: dict[int, list[str]] = {}
    for alias, number in aliases.items():
        by_version.setdefault(number, []).append(alias)
    table = Table(title=f"{name} in {registry.url.split('@')[-1]}")
    for column in ("version", "aliases", "created", "by", "run", "checks", "metric", "sha256"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for v in versions:
        metric = f"{v.primary_metric} {v.primary_value:.4f}" if v.primary_value is not None else ""
        table.add_row(
            str(v.version),
            ", ".join(sorted(by_version.get(v.version, []))),
            v.created_at[:19],
            v.registered_by,
            v.run_id or "",
            "[green]passed[/]" if v.passed else "[red]failed[/] (allowed)",
            metric,
            v.sha256[:12],
        )
    print_table(table)


@app.command("show")
def show(
    ref: Annotated[
        str | None,
        typer.Argument(help="NAME@ALIAS, NAME:VERSION or VERSION. \\[default: @production]"),
    ] = None,
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """One version with all its metadata."""
    loaded, registry = _open(spec)
    version = registry.resolve(_ref(ref, loaded))
    aliases = [
        a for a, n in registry.aliases_of(version.model_name).items() if n == version.version
    ]
    if output_format is OutputFormat.json or STATE.json:
        payload = {**version.summary(), "aliases": aliases, "metadata": version.metadata}
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    m = version.metadata
    v = m.get("validation") or {}
    lines = [
        f"[bold]{version.model_name}:{version.version}[/]"
        + (f"  aliases: {', '.join(sorted(aliases))}" if aliases else ""),
        f"model      {version.model_type}",
        f"target     {m.get('target')} ({m.get('task')}"
        + (f", positive {m.get('positive_class')}" if m.get("positive_class") else "")
        + ")",
        f"features   {len((m.get('features') or {}).get('numeric', []))} numeric, "
        f"{len((m.get('features') or {}).get('categorical', []))} categorical",
        "metrics    "
        + ", ".join(
            f"{k} {(s or {}).get('mean'):.4f}"
            for k, s in (v.get("cv") or {}).items()
            if (s or {}).get("mean") is not None
        )
        + " (CV mean)",
    ]
    if v.get("holdout_metrics"):
        lines.append(
            "holdout    "
            + ", ".join(
                f"{k} {val:.4f}" for k, val in v["holdout_metrics"].items() if val is not None
            )
        )
    business = m.get("business") or {}
    if "cv" in business:
        best = business["cv"]["best_threshold"]
        lines.append(
            f"business   {best['value']:,.0f} {business['currency']} at threshold "
            f"{best['threshold']:.3f}"
        )
    lines += [
        f"trained    {m.get('created_at')} by {m.get('author')} in {m.get('training_seconds')} s"
        f" (run {version.run_id})",
        f"registered {version.created_at} by {version.registered_by}"
        + (
            f"; allowed although failing: {version.allow_failing_reason}"
            if version.allow_failing_reason
            else ""
        ),
        f"data       sha256 {version.data_fingerprint}",
        f"spec       sha256 {version.spec_hash}"
        + (f", git {version.git_commit}" if version.git_commit else ""),
        "packages   "
        + ", ".join(
            f"{k} {val}" for k, val in ((m.get("environment") or {}).get("packages") or {}).items()
        ),
        f"artifact   {version.artifact_uri} ({version.artifact_bytes:,} bytes, sha256 "
        f"{version.sha256})",
    ]
    console = out()
    for line in lines:
        console.print(line, highlight=False)


def _gate_options(reason: str | None, force: bool) -> None:
    from mlready.project.steps import check_gate_options

    check_gate_options(reason, force)


@app.command("promote")
def promote(
    ref: Annotated[str, typer.Argument(help="The version: NAME:VERSION, VERSION or NAME@ALIAS.")],
    to: Annotated[str, typer.Option("--to", help="The alias to move.")] = "production",
    force: ForceOption = False,
    reason: ReasonOption = None,
    allow_pickle: AllowPickleOption = False,
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Move an alias to a version; production only when the promotion gate holds."""
    from mlready.registry import check_name

    _gate_options(reason, force)
    check_name(to, "alias")
    loaded, registry = _open(spec, allow_pickle)
    version = registry.resolve(_ref(ref, loaded))
    decision = _promote(loaded, registry, version, to, force, reason)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(decision, indent=2, default=str))
    else:
        _print_decision(decision)
    if not decision["accepted"]:
        raise typer.Exit(1)


@app.command("rollback")
def rollback(
    model: Annotated[str | None, typer.Option(help="\\[default: the spec's model]")] = None,
    alias: Annotated[str, typer.Option(help="The alias to move back.")] = "production",
    reason: ReasonOption = None,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Move production (or another alias) back to the version it pointed to before."""
    from mlready.errors import NotFoundError
    from mlready.registry import check_name

    loaded, registry = _open(spec)
    name = check_name(model or loaded.spec.model_name)
    check_name(alias, "alias")
    current = registry.aliases_of(name).get(alias)
    if current is None:
        raise NotFoundError(f"'{name}' has no alias '{alias}' to roll back")
    previous = registry.previous_version(name, alias)
    if previous is None:
        raise NotFoundError(
            f"{name}@{alias} has pointed only to version {current}: there is nothing to roll "
            "back to (promote another version instead)"
        )
    registry.record_alias(
        name,
        alias,
        previous,
        action="rollback",
        accepted=True,
        forced=False,
        reason=reason or f"rolled back from {current}",
        actor=_actor(),
    )
    if STATE.json:
        typer.echo(json.dumps({"model": name, "alias": alias, "from": current, "to": previous}))
    else:
        say(f"[green]rolled back[/] {name}@{alias}: {current} -> {previous}")


@app.command("diff")
def diff(
    first: Annotated[str, typer.Argument(help="A version: NAME:VERSION, VERSION or NAME@ALIAS.")],
    second: Annotated[str, typer.Argument(help="The version to compare it with.")],
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """What differs between two versions: params, metrics, features, packages."""
    from mlready.registry.compare import diff_versions

    loaded, registry = _open(spec)
    a = registry.resolve(_ref(first, loaded))
    b = registry.resolve(_ref(second, loaded))
    changes = diff_versions(a, b)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(changes, indent=2, default=str))
        return
    if not any(changes.values()):
        say(f"{a.model_name}:{a.version} and {b.model_name}:{b.version} do not differ")
        return
    from mlready.cli.state import print_changes

    print_changes(
        f"{a.model_name}:{a.version} against {b.model_name}:{b.version}",
        (f"v{a.version}", f"v{b.version}"),
        [
            (section, item["key"], item["a"], item["b"], item["change"])
            for section, items in changes.items()
            for item in items
        ],
    )


@app.command("history")
def history(
    model: Annotated[str | None, typer.Option(help="\\[default: the spec's model]")] = None,
    output_format: FormatOption = OutputFormat.text,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Every alias change and gate decision, oldest first (the audit history)."""
    from rich.table import Table

    from mlready.cli.state import literal
    from mlready.registry import check_name

    loaded, registry = _open(spec)
    name = check_name(model or loaded.spec.model_name)
    items = registry.history_of(name)
    if output_format is OutputFormat.json or STATE.json:
        typer.echo(json.dumps(items, indent=2, default=str))
        return
    table = Table(title=f"alias history of {name}")
    for column in ("at", "alias", "change", "action", "decision", "by", "reason"):
        table.add_column(column, overflow="fold")
    for h in items:
        decision = "[green]accepted[/]" if h["accepted"] else "[red]refused[/]"
        if h["forced"]:
            decision = "[yellow]forced[/]"
        table.add_row(
            h["at"][:19],
            h["alias"],
            f"{h['from_version'] or '-'} -> {h['to_version']}",
            h["action"],
            decision,
            literal(h["actor"]),
            literal(h["reason"]),
        )
    print_table(table)


@app.command("verify")
def verify(
    ref: Annotated[
        str | None,
        typer.Argument(help="One version (NAME:VERSION, NAME@ALIAS). \\[default: every version]"),
    ] = None,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Check stored files against their recorded sha256 without loading anything.

    A skops model's types are checked against the trusted ones too; exit 4 if anything fails."""
    from mlready.registry import environment_warnings

    loaded, registry = _open(spec)
    if ref is not None:
        versions = [registry.resolve(_ref(ref, loaded))]
    else:
        versions = registry.list_versions(loaded.spec.model_name)
        if not versions:
            _no_registry_for_the_store(loaded)
    checked = []
    for version in versions:
        # hashes and a skops file's type names only: nothing is loaded; DataError (exit 4)
        warnings = registry.check(version) + environment_warnings(version)
        checked.append(
            {
                "version": f"{version.model_name}:{version.version}",
                "sha256": version.sha256,
                "verified": True,
                "warnings": warnings,
            }
        )
        say(f"[green]ok[/] {version.model_name}:{version.version} sha256 {version.sha256[:12]}…")
        for warning in warnings:
            say(f"[yellow]warning[/]: {warning}")
    if STATE.json:
        typer.echo(json.dumps({"verified": checked}, indent=2))
    elif not versions:
        say("no versions to verify")
