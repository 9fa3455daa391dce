"""The exit-code table, row by row, through the real top-level handler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlready import errors

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.CheckFailed, 1),
        (errors.UsageError, 2),
        (errors.SpecError, 3),
        (errors.DataError, 4),
        (errors.InternalError, 5),
    ],
)
def test_each_error_class_carries_its_exit_code(cls: type[errors.MlreadyError], code: int) -> None:
    assert cls.exit_code == code
    assert code in errors.EXIT_CODES


def test_table_has_every_documented_code() -> None:
    assert set(errors.EXIT_CODES) == {0, 1, 2, 3, 4, 5, 130}


def test_docs_list_the_same_table() -> None:
    page = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", page, flags=re.MULTILINE))
    assert {int(k): v for k, v in rows.items()} == errors.EXIT_CODES


@pytest.mark.parametrize(
    ("raised", "code", "text"),
    [
        (errors.CheckFailed("3 expectations failed"), 1, "3 expectations failed"),
        (errors.UsageError("--chunk-rows must be positive"), 2, "--chunk-rows must be positive"),
        (errors.SpecError("mlready.yaml:3 data.target: required"), 3, "data.target"),
        (errors.DataError("cannot read x.csv"), 4, "cannot read x.csv"),
        (errors.InternalError("broken invariant"), 5, "broken invariant"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (ZeroDivisionError("division by zero"), 5, "unexpected internal error"),
    ],
)
def test_main_maps_errors_to_codes_and_one_line_messages(
    monkeypatch: pytest.MonkeyPatch, run_cli, raised: BaseException, code: int, text: str
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("mlready.spec.load_spec", boom)
    result = run_cli("spec", "check")
    assert result.exit_code == code
    assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("mlready.spec.load_spec", boom)
    result = run_cli("--debug", "spec", "check")
    assert result.exit_code == 5
    assert "Traceback" in result.stderr
    assert "ZeroDivisionError" in result.stderr


def test_usage_error_is_exit_2(run_cli) -> None:
    result = run_cli("spec", "check", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr or "no such option" in result.stderr.lower()


def test_unknown_command_is_exit_2(run_cli) -> None:
    assert run_cli("frobnicate").exit_code == 2


def test_hint_is_printed_after_the_message() -> None:
    error = errors.SpecError("no project spec at x", hint="run `mlready init`")
    assert str(error) == "no project spec at x\n  hint: run `mlready init`"
