"""A model, version, alias or run that is not there is exit 4 (artifact missing), in every
command that looks for one, as docs/exit-codes.md says; a malformed reference stays exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlready import errors
from tests.conftest import ROOT

#: every command that reads a model (or a run) from the registry or the run log, with nothing
#: registered and nothing trained; and what its message names
EMPTY = [
    (("register",), "no passing train run to register"),
    (("register", "--run", "20260101T000000Z-abcdef"), "no train run 20260101T000000Z-abcdef"),
    (("serve-batch", "--input", "data/train.csv"), "no model 'demo' in the registry"),
    (("check-drift", "--current", "data/train.csv"), "no model 'demo' in the registry"),
    (("check-drift",), "no model 'demo' in the registry"),
    (("check-drift", "--batch", "20260101T000000Z-abcdef"), "no model 'demo' in the registry"),
    (("registry", "show"), "no model 'demo' in the registry"),
    (("registry", "show", "demo:3"), "no model 'demo' in the registry"),
    (("registry", "promote", "1"), "no model 'demo' in the registry"),
    (("registry", "diff", "1", "2"), "no model 'demo' in the registry"),
    (("registry", "rollback"), "'demo' has no alias 'production' to roll back"),
    (("registry", "verify", "demo@production"), "no model 'demo' in the registry"),
]


@pytest.mark.parametrize(("args", "message"), EMPTY, ids=[" ".join(a) for a, _ in EMPTY])
def test_nothing_registered_is_exit_4(run_cli, project: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(project)
    result = run_cli("--spec", str(project), *args)
    assert result.exit_code == errors.NotFoundError.exit_code == 4, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    as_json = run_cli("--json", "--spec", str(project), *args)
    assert as_json.exit_code == 4
    assert '"exit_code": 4' in as_json.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("registry", "show", "demo:0"),
        ("registry", "show", "a/b@production"),
        ("check-drift", "-m", "x:y"),
    ],
)
def test_a_malformed_reference_is_still_a_usage_error(run_cli, project: Path, args) -> None:
    result = run_cli("--spec", str(project), *args)
    assert result.exit_code == 2, result.stderr


def test_the_exit_code_page_says_what_the_code_does() -> None:
    page = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    assert "| 4 | input data or artifact missing (a model, version, alias or run not found)" in page
    for command in ("serve-batch", "check-drift", "register", "registry show"):
        assert f"`{command}`" in page.split("## Not found")[1].split("##")[0], command
