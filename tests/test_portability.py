"""mlready runs where the POSIX-only modules are missing (Windows has no fcntl and no resource)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROVENANCE_VARIABLES, ROOT

#: Standard-library modules that exist on POSIX only.
POSIX_ONLY = ("fcntl", "resource", "pwd", "grp", "termios", "posix", "tty", "pty")

#: Runs the CLI as the `mlready` script would, with the POSIX-only modules unimportable (None in
#: sys.modules makes `import fcntl` raise ImportError, as on Windows).
_WITHOUT_POSIX = """\
import sys
for name in {names!r}:
    assert name not in sys.modules or name == "posix", name
    if name != "posix":  # os itself is built on it; mlready must not import it by name
        sys.modules[name] = None
from mlready.cli.app import main
sys.argv = ["mlready", *sys.argv[1:]]
main()
"""


def _mlready(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # no login-name variables either: getpass then falls back to pwd, which Windows lacks
    hidden = {*PROVENANCE_VARIABLES, "USER", "LOGNAME", "LNAME", "USERNAME", "MLREADY_USER"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PYTHONPATH"] = str(ROOT)
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_POSIX.format(names=POSIX_ONLY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_no_module_imports_a_posix_only_module_unguarded() -> None:
    """Every import of a POSIX-only module sits in a try block that handles ImportError."""
    found = []
    for path in sorted((ROOT / "mlready").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(
                h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
            ):
                guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.split(".")[0] in POSIX_ONLY and id(node) not in guarded:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not found, found


@pytest.mark.slow
def test_the_main_commands_work_without_fcntl_and_resource(tmp_path: Path) -> None:
    init = _mlready("init", "proj", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    check = _mlready("--spec", "proj", "spec", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    run = _mlready("--spec", "proj", "--json", "run", cwd=tmp_path)
    assert "internal error" not in run.stderr, run.stderr
    assert run.returncode == 0, run.stderr[-3000:]
    outcomes = {s["step"]: s["status"] for s in json.loads(run.stdout)["steps"]}
    for step in ("validate-data", "train", "register", "serve-batch", "check-drift"):
        assert outcomes[step] == "ran", outcomes
    assert outcomes["checklist-report"] in ("ran", "failed"), outcomes  # a finding, not a crash
    for command in (["registry", "list"], ["registry", "verify"], ["runs", "verify"]):
        done = _mlready("--spec", "proj", *command, cwd=tmp_path)
        assert "internal error" not in done.stderr, (command, done.stderr)
        assert done.returncode in (0, 1), (command, done.returncode, done.stderr)
    from mlready.runs import read_run_log

    [served] = read_run_log(tmp_path / "proj" / ".mlready", "serve-batch")
    # no resource module and no Windows API here: peak memory is unknown, not a crash
    assert served.summary["peak_memory_mb"] == 0.0


def test_peak_memory_is_read_in_the_units_of_each_system(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from mlready.serving import peak_memory_mb

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    monkeypatch.setattr(sys, "platform", "linux")
    assert peak_memory_mb() == pytest.approx(kib / 1024, rel=0.05)
    monkeypatch.setattr(sys, "platform", "darwin")  # ru_maxrss is in bytes there
    assert peak_memory_mb() == pytest.approx(kib / 2**20, rel=0.05)


def test_the_user_is_unknown_rather_than_a_crash_without_pwd(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlready.runs import current_user

    for variable in ("MLREADY_USER", "USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setitem(sys.modules, "pwd", None)
    assert current_user() == "unknown"
    monkeypatch.setenv("USERNAME", "ada")  # what Windows sets
    assert current_user() == "ada"
