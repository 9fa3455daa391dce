"""``mlready test``: the project's own tests (checklist.test_command), recorded as evidence."""

from __future__ import annotations

import json

import typer

from mlready.cli.state import STATE, JsonOption, SpecOption, out, quiet_verdict


def project_tests(as_json: JsonOption = False, spec: SpecOption = None) -> None:
    """Run the project's tests (checklist.test_command) and keep their JUnit XML as evidence.

    The readiness report reads it as proof that the feature code is tested. Exit 1 when a test
    fails or none ran.
    """
    from mlready.cli.state import literal
    from mlready.project_tests import run_tests
    from mlready.runs import start_run
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    with start_run(loaded.spec.project.artifacts_dir, "test", loaded) as run:
        result = run_tests(loaded, run.dir, run.logger)
        run.summary.update(result.to_dict())
        if not result.passed:
            run.fail(1)
    if STATE.json or as_json:
        payload = {**result.to_dict(), "run_id": run.run_id, "run_dir": str(run.dir)}
        typer.echo(json.dumps(payload, indent=2))
    else:
        verdict = "[green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
        verdict += (
            f": {result.tests} tests, {result.failures} failed, {result.errors} in "
            f"error, {result.skipped} skipped (exit {result.exit_code})"
        )
        failures = list(result.failed)
        if result.tests - result.skipped < 1:
            failures.append("no test ran: an empty test suite proves nothing")
        if not quiet_verdict(result.passed, verdict, failures):
            out().print(f"{verdict}; JUnit report: {literal(str(run.dir / 'junit.xml'))}")
            for failure in failures:
                out().print(f"  - {literal(failure)}")
            out().print(f"run folder: {run.dir}")
    if not result.passed:
        raise typer.Exit(1)
