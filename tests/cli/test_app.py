"""The command surface: help, version, global options, and the import budget of --help."""

from __future__ import annotations

import json
import subprocess
import sys

from mlready import __version__


def test_help_lists_commands_with_one_line_help(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("init", "spec"):
        assert command in result.stdout
    for option in ("--spec", "--quiet", "--verbose", "--debug", "--version"):
        assert option in result.stdout


def test_no_step_command_is_registered_as_a_stub(run_cli) -> None:
    from mlready.cli.app import app

    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == {
        "init",
        "spec",
        "validate-data",
        "train",
        "register",
        "registry",
        "serve-batch",
        "serve",
        "check-drift",
        "checklist-report",
        "run",
        "runs",
        "site",
        "test",
    }


def test_the_runs_group_lists_compares_and_verifies() -> None:
    from mlready.cli.app import app

    [runs] = [g for g in app.registered_groups if g.name == "runs"]
    assert {c.name for c in runs.typer_instance.registered_commands} == {
        "list",
        "compare",
        "verify",
    }


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mlready {__version__}"


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from mlready.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ['pandas', 'sklearn', 'great_expectations', 'scipy', 'pyarrow', 'numpy',"
        " 'pydantic', 'yaml', 'jinja2', 'dask', 'matplotlib']\n"
        "print('LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "LOADED=", loaded


def test_import_mlready_is_light() -> None:
    code = "import sys, mlready, mlready.cli.app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout))
    assert not modules & {"pandas", "sklearn", "great_expectations"}


def test_quiet_silences_success_output(project, run_cli) -> None:
    loud = run_cli("--spec", str(project), "spec", "check", "--no-files")
    quiet = run_cli("--quiet", "--spec", str(project), "spec", "check", "--no-files")
    assert loud.exit_code == quiet.exit_code == 0
    assert "valid project spec" in loud.stdout
    assert quiet.stdout == ""


def test_spec_option_on_the_command_overrides_the_global_one(project, tmp_path, run_cli) -> None:
    result = run_cli("--spec", str(tmp_path / "missing"), "spec", "check", "--spec", str(project))
    assert result.exit_code == 0, result.stderr


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mlready", "--version"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0
    assert __version__ in out.stdout


def _suggested_commands() -> list[tuple[str, str]]:
    """Every `mlready ...` command that a message, a next action, a template or a doc page
    suggests, with where it is written (quoted with backticks, across joined literals too)."""
    import re

    from tests.conftest import ROOT

    found = []
    paths = [ROOT / "README.md"]
    for folder in ("mlready", "templates", "docs"):
        paths += sorted((ROOT / folder).rglob("*"))
    for path in paths:
        if path.suffix not in (".py", ".j2", ".md"):
            continue
        # adjacent string literals ("...`mlready validate-data " "--infer`...") joined
        text = re.sub(r'"\s*\n\s*f?"', "", path.read_text(encoding="utf-8"))
        for match in re.finditer(r"`(mlready [^`]+)`", text):
            found.append((match.group(1), f"{path.relative_to(ROOT)}"))
    return found


def test_every_suggested_command_and_option_exists() -> None:
    """A message that sends the user to `mlready init --infer` (an option of validate-data)
    is a false finding of its own: every suggested command and option must exist."""
    from tests.conftest import wrong_commands

    suggestions = _suggested_commands()
    assert len(suggestions) > 30
    wrong = [f"{where}: {problem}" for s, where in suggestions for problem in wrong_commands(s)]
    assert not wrong, "\n".join(wrong)
