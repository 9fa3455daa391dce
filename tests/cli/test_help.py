"""--help reads well in an 80-column terminal: no stray types, nothing cut, whole sentences; and
shell completion is on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import cli_commands

GROUPS = ["", "registry", "spec", "runs"]


def _help(run_cli, monkeypatch: pytest.MonkeyPatch, name: str, columns: int = 80) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = run_cli(*name.split(), "--help")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _command(name: str) -> Any:
    import typer

    from mlready.cli.app import app

    command = typer.main.get_command(app)
    for part in name.split():
        command = command.commands[part]  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("name", GROUPS + cli_commands())
@pytest.mark.parametrize("columns", [80, 120])
def test_help_has_no_stray_type_and_cuts_nothing(
    run_cli, monkeypatch: pytest.MonkeyPatch, name: str, columns: int
) -> None:
    text = _help(run_cli, monkeypatch, name, columns)
    assert "<bool>" not in text
    assert "…" not in text, [line for line in text.splitlines() if "…" in line]
    assert max(len(line) for line in text.splitlines()) <= columns
    for param in _command(name).params:  # every option's name is shown whole
        for option in (*param.opts, *param.secondary_opts):
            if option.startswith("--"):
                assert re.search(rf"{re.escape(option)}(?![\w-])", text), option


@pytest.mark.parametrize("name", GROUPS + cli_commands())
def test_summary_is_one_whole_sentence(name: str) -> None:
    """The summary a group lists for a command is the first paragraph of its help: one
    sentence on one line, which the terminal wraps (a line break from the docstring's source
    would cut it mid-sentence in the list)."""
    help_text = _command(name).help or ""
    summary = help_text.split("\n\n")[0]
    assert "\n" not in summary, summary
    assert summary.endswith("."), summary
    assert ". " not in summary[:-1].replace("e.g. ", ""), f"one sentence: {summary}"
    assert len(summary) <= 100, f"{len(summary)} characters: {summary}"
    for paragraph in help_text.split("\n\n"):
        assert "\n" not in paragraph, paragraph


@pytest.mark.parametrize("group", GROUPS)
def test_group_lists_each_summary_whole(run_cli, monkeypatch: pytest.MonkeyPatch, group) -> None:
    text = _help(run_cli, monkeypatch, group)
    panel = text[text.index("Commands") :]
    flat = " ".join(panel.replace("│", " ").split())
    for name, command in _command(group).commands.items():
        summary = command.help.split("\n\n")[0]
        assert f"{name} {summary}" in flat, name


def test_boolean_flags_show_no_type_but_values_do(run_cli, monkeypatch) -> None:
    text = _help(run_cli, monkeypatch, "validate-data", 120)
    assert re.search(r"--infer\s{2,}With|--infer\s+Write", text)
    assert "<text|json|junit>" in text
    assert "<path>" in text


def test_shell_completion_is_on(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(run_cli, monkeypatch, "")
    assert "--install-completion" in text
    assert "--show-completion" in text
    # name the shell instead of detecting it from the process tree (none in a detached run)
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    script = run_cli("--show-completion", "bash")
    assert script.exit_code == 0
    assert "_MLREADY_COMPLETE" in script.stdout
    assert "complete" in script.stdout


def test_completion_completes_commands_and_options(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("_MLREADY_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "mlready registry ")
    monkeypatch.setenv("COMP_CWORD", "2")
    result = run_cli()
    assert set(result.stdout.split()) == set(_command("registry").commands)
    monkeypatch.setenv("COMP_WORDS", "mlready validate-data --inf")
    result = run_cli()
    assert result.stdout.split() == ["--infer"]
