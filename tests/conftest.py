"""Shared fixtures: a valid minimal spec and a way to run the CLI in-process through main()."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlready.cli.app import main
from mlready.cli.state import STATE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"

MINIMAL_SPEC = textwrap.dedent(
    """\
    spec_version: 1
    project:
      name: demo
      owner: data-team
    data:
      source: {path: data/train.csv}
      target: churn
      id_columns: customer_id
    model:
      estimator: sklearn.linear_model.LogisticRegression
      params: {C: 1.0}
    """
)


#: What makes a run count as automated (in CI, on a schedule): tests set it when they mean it, so
#: the suite gives the same results on a laptop and in CI.
PROVENANCE_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_REPOSITORY",
    "GITHUB_EVENT_NAME",
    "GITLAB_CI",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TF_BUILD",
    "MLREADY_SCHEDULE",
)


@pytest.fixture(autouse=True, scope="session")
def _not_in_ci() -> Iterator[None]:
    # session scope: module-scoped fixtures (a pipeline run once per module) see it too
    with pytest.MonkeyPatch.context() as patch:
        for variable in PROVENANCE_VARIABLES:
            patch.delenv(variable, raising=False)
        yield


def cli_commands() -> list[str]:
    """Every command and sub-command of the CLI, as typed ("registry list")."""
    from mlready.cli.app import app

    names = [c.name for c in app.registered_commands]
    for group in app.registered_groups:
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    return names


def wrong_commands(text: str) -> list[str]:
    """What is wrong in the `mlready ...` commands quoted in ``text`` (a command or option
    that does not exist); empty when each of them would run."""
    import re

    import typer

    from mlready.cli.app import app

    root = typer.main.get_command(app)
    global_options = {o for p in root.params for o in p.opts} | {"--help"}
    wrong = []
    quoted = re.findall(r"`(mlready [^`]+)`", text) or (
        [text] if text.startswith("mlready ") else []
    )
    for suggestion in quoted:
        tokens = suggestion.split()[1:]
        while tokens and tokens[0].startswith("-"):  # global options first
            option = tokens.pop(0)
            if option.split("=")[0] not in global_options:
                wrong.append(f"`{suggestion}`: no global option {option}")
            if option in ("--spec", "-s") and tokens:
                tokens.pop(0)
        if not tokens or not re.fullmatch(r"[a-z|-]+", tokens[0]):
            continue
        for name in tokens.pop(0).split("|"):
            command = root.commands.get(name)  # type: ignore[attr-defined]
            if command is None:
                wrong.append(f"`{suggestion}`: no command {name}")
                continue
            rest = list(tokens)
            if hasattr(command, "commands") and rest:
                subs = rest.pop(0).split("|")
                missing = [s for s in subs if s not in command.commands]
                if missing:
                    wrong.append(f"`{suggestion}`: no command {name} {' '.join(missing)}")
                    continue
                command = command.commands[subs[0]]
            options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            for token in rest:
                if token.startswith("-") and token.split("=")[0] not in options | global_options:
                    wrong.append(f"`{suggestion}`: {name} has no option {token}")
    return wrong


@dataclass
class CliResult:
    """What a CLI call printed and returned."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``mlready ARGS`` through main(), the way the console script does."""

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:  # pragma: no cover - main always exits
            code = 0
        finally:
            STATE.spec, STATE.quiet, STATE.verbose, STATE.debug = None, False, False, False
            STATE.json = False
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a minimal valid spec and a tiny training file."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text(
        "customer_id,tenure,plan,churn\nC1,3,basic,Yes\nC2,40,pro,No\n", encoding="utf-8"
    )
    (tmp_path / "mlready.yaml").write_text(MINIMAL_SPEC, encoding="utf-8")
    return tmp_path


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of sample_project/ (its spec, data and nothing generated)."""
    target = tmp_path / "sample_project"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".mlready", "__pycache__"))
    return target


# ------------------------------------------------------------------ the notebook example

API_DOC = ROOT / "docs" / "python-api.md"


def doc_cells(path: Path = API_DOC) -> list[str]:
    """The ```python blocks of a doc page, in order: a notebook's cells."""
    import re

    text = path.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def run_cell(source: str, namespace: dict[str, object]) -> object:
    """Run a cell as Jupyter does: its statements, then the value of its last line when that is
    an expression (what the notebook would display); None otherwise."""
    import ast

    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    exec(compile(body, "<cell>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


@dataclass
class Notebook:
    """docs/python-api.md's example after it ran: its folder, its variables, and what each
    cell displayed."""

    folder: Path
    namespace: dict[str, object]
    shown: list[object]


@pytest.fixture(scope="session")
def notebook(tmp_path_factory: pytest.TempPathFactory, _not_in_ci: None) -> Notebook:
    """The worked example of docs/python-api.md, run once for the session (it trains the
    starter project twice): the API's tests and the run comparison's read what it recorded."""
    folder = tmp_path_factory.mktemp("notebook")
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLREADY_USER", "notebook")
        for cell in doc_cells():
            shown.append(run_cell(cell, namespace))
    return Notebook(folder, namespace, shown)


# ------------------------------------------------------------------ the demo project


def python_code(code: str, *args: str) -> str:
    """The stdout of ``python -c CODE ARGS`` in a fresh process that imports this checkout (a
    non-zero exit fails the test, with its stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def mlready_subprocess(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``mlready --quiet --spec PROJECT ARGS`` in a process of its own, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mlready", "--quiet", "--spec", str(project), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MLREADY_USER": "tester"},
        check=False,
    )


#: The pipeline that makes the demo project, as `make demo` and the tutorial run it.
def _demo_steps(project: Path) -> list[tuple[str, ...]]:
    data = project / "data"
    return [
        ("validate-data",),
        ("validate-data", "--data", str(data / "batch_2026_07.csv")),
        ("train",),
        ("register", "--promote", "production"),
        ("serve-batch",),
        (
            "serve-batch",
            "--input",
            str(data / "batch_2026_08.csv"),
            "--output",
            str(project / "predictions" / "scores_08.parquet"),
        ),
        ("check-drift", "--outcomes", str(data / "batch_2026_08_outcomes.csv")),
        ("serve-batch",),
        ("check-drift",),
        ("checklist-report",),
    ]


def _build_demo(folder: Path) -> Path:
    project = folder / "sample_project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".mlready", "predictions"))
    for args in _demo_steps(project):
        done = mlready_subprocess(project, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return project


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project after the pipeline (as in `make demo`) and one checklist-report,
    once per test run: the July batch validated, trained, registered, the July and August
    batches scored, drift checked with the August outcomes. Tests that change it work on a
    copy (:func:`copy_project`).

    Under pytest-xdist the workers share one: the first to need it builds it in the run's
    shared temporary folder, under a file lock, and the others wait for it and read it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build_demo(tmp_path_factory.mktemp("demo"))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's
    folder, done = shared / "demo", shared / "demo.done"
    with FileLock(shared / "demo.lock"):
        if not done.exists():
            # built where it stays (its run log and registry hold absolute paths); what a
            # worker that failed half-way left is built again
            shutil.rmtree(folder, ignore_errors=True)
            _build_demo(folder)
            done.touch()
    return folder / "sample_project"


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a project folder with its artifacts (the registry's model files stay where
    they are: the copy reads them)."""
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    """A real Dask scheduler with two worker processes on 127.0.0.1 (one per test module)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    ) as cluster:
        yield cluster.scheduler_address


# ------------------------------------------------------------------ parallel runs


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker: the files with a test marked ``slow`` first, each in its own
    order, so that no worker starts a minute-long test when the others are done. `make test`
    runs ``--dist loadfile --no-loadscope-reorder``: each file on one worker (its module-scoped
    fixtures are made once, and a test that counts on the ones before it finds what they left),
    the files in this order; every worker sorts alike, as xdist requires."""
    if not hasattr(config, "workerinput"):
        return
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)  # stable: each file's order is kept
