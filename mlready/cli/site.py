"""``mlready site``: the project site, one folder of static pages to browse the project."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlready.cli.state import STATE, JsonOption, SpecOption, err, say

if TYPE_CHECKING:
    from mlready.site import SiteResult

#: While set, refresh() waits: `mlready run` refreshes the site once, after its last step.
_held = False


def site(
    open_: Annotated[
        bool, typer.Option("--open", help="Open the site's index in the web browser.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write the pages over files of the same name mlready did not write."
        ),
    ] = False,
    as_json: JsonOption = False,
    spec: SpecOption = None,
) -> None:
    """Write the project site: static pages to browse the whole project.

    Readiness over time, the registry (versions, aliases, who promoted what and why), every run
    with its results and report, the data checks, drift per feature, the alerts, and what
    changed since each command's run before, in <artifacts_dir>/site/. No server and no
    scripts: open index.html from disk, keep it as a CI artifact, or publish the artifacts
    folder. Run log records that do not hold are flagged and left out of every number.
    `mlready run` and `mlready checklist-report` refresh it.
    """
    from mlready.cli.state import literal
    from mlready.site import build_site
    from mlready.spec import load_spec

    result = build_site(load_spec(STATE.spec_path(spec)), force=force)
    if STATE.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        say(_summary(result))
    for warning in result.warnings:
        err().print(f"[yellow]warning[/]: {literal(warning)}")
    if open_:
        import webbrowser

        if not webbrowser.open(result.index.resolve().as_uri()):
            err().print(f"[yellow]warning[/]: no web browser here: open {literal(result.index)}")


def _summary(result: SiteResult) -> str:
    from mlready.cli.state import literal
    from mlready.reporting import counted

    score = "" if result.readiness is None else f"; readiness {result.readiness:.2f} / 7"
    flagged = f", [red]{counted(result.flagged, 'record')} flagged[/]" if result.flagged else ""
    return (
        f"site: {literal(result.index)} ({counted(len(result.pages), 'page')}; "
        f"{counted(result.runs, 'run')}{flagged}{score})"
    )


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Inside, :func:`refresh` does nothing (the caller refreshes once, at its end)."""
    global _held
    before, _held = _held, True
    try:
        yield
    finally:
        _held = before


def refresh(loaded: Any) -> None:
    """Rebuild the site after a command that changed what it shows. A failure here never
    fails the command: it is a warning on stderr naming `mlready site`, which shows why."""
    if _held:
        return
    from mlready.cli.state import literal

    try:
        from mlready.site import build_site

        build_site(loaded)
    except Exception as error:  # the command's own result stands; the site is a view of it
        what = literal(f"{type(error).__name__}: {error}")
        err().print(
            f"[yellow]warning[/]: the project site was not refreshed ({what}); "
            "`mlready site` rebuilds it"
        )


def site_path(loaded: Any) -> Path:
    """Where a project's site index is."""
    from mlready.site import site_dir

    return site_dir(loaded.spec.project.artifacts_dir) / "index.html"
