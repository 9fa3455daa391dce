"""The wheel built from the repository: what it ships, and that it installs as its users and the CI
files that `mlready init --ci` writes install it, then runs a project end to end."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from mlready import DISTRIBUTION, __version__

from .conftest import PROVENANCE_VARIABLES, ROOT, SAMPLE

#: Files of the repository that the wheel does not ship: no message may send a user to them.
REPOSITORY_ONLY = re.compile(
    r"\b(docs/|README\.md|CHANGELOG\.md|sample_project/|benchmarks/|\.ci/|Makefile)"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("*.whl")
    return built


def _dependencies_only(tmp_path: Path) -> Path:
    """A folder that shows this environment's third-party packages (the versions the suite runs
    with, pinned in constraints.txt) but not mlready itself nor its editable-install hooks: a
    fresh venv that adds it to its path has every dependency installed, and no mlready."""
    view = tmp_path / "dependencies"
    view.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name.lower()
        if name.startswith(("mlready", "_editable_impl_", "__editable__")) or name.endswith(".pth"):
            continue
        (view / entry.name).symlink_to(entry)
    return view


def _fresh_venv(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    """A new venv outside the repository whose path also holds the dependencies; its bin/ and an
    environment for running its commands (no PYTHONPATH, no CI variables, no index: offline)."""
    venv = tmp_path / name
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    view = tmp_path / "dependencies"
    if not view.exists():
        _dependencies_only(tmp_path)
    (Path(site) / "dependencies.pth").write_text(f"{view}\n")
    hidden = {"PYTHONPATH", "VIRTUAL_ENV", "MLREADY_REGISTRY_URL", *PROVENANCE_VARIABLES}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return venv / "bin", env


def test_wheel_ships_the_templates_types_and_constraints(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.name.startswith("mlready_cli-")
    assert "mlready/templates/base.html.j2" in names
    assert "mlready/templates/init/mlready.yaml.j2" in names
    assert "mlready/py.typed" in names
    shipped = zipfile.ZipFile(wheel).read("mlready/constraints.txt").decode()
    assert shipped == (ROOT / "constraints.txt").read_text()


def test_wheel_metadata_names_the_distribution_bounds_and_urls(wheel: Path) -> None:
    [metadata] = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Name: {DISTRIBUTION}\n" in text
    assert f"Version: {__version__}\n" in text
    assert "Project-URL: " in text
    assert "Classifier: Operating System :: OS Independent" in text
    requires = [
        line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Requires-Dist")
    ]
    # every dependency has a lower and an upper bound (types-PyYAML too)
    for requirement in requires:
        specifier = requirement.split(";")[0]
        assert ">=" in specifier, requirement
        assert "<" in specifier.replace("<=", ""), requirement


def test_the_constraints_pin_every_dependency_within_its_bounds() -> None:
    """constraints.txt holds a version of every declared dependency, inside the declared bounds,
    and it is the version this test suite is running with."""
    from importlib import metadata

    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.lower())] = version
    for text in declared:
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name.lower())
        assert name in pins, f"{name} is not pinned in constraints.txt: run make constraints"
        assert requirement.specifier.contains(pins[name]), (text, pins[name])
        assert metadata.version(requirement.name) == pins[name], (
            f"{name} {metadata.version(requirement.name)} is installed, constraints.txt pins "
            f"{pins[name]}: reinstall with -c constraints.txt, or run make constraints"
        )


def test_no_message_points_at_a_file_the_wheel_does_not_ship() -> None:
    """Strings the user can see (every string but the docstrings of library modules, plus the
    command docstrings that --help prints, plus the templates) name no repository-only file."""
    found = []
    for path in sorted((ROOT / "mlready").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # docstrings are for developers, but the CLI's function docstrings are its --help
        kinds: tuple[type, ...] = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if path.parent.name == "cli":
            kinds = (ast.Module,)
        docstrings = {
            id(node.body[0].value)  # type: ignore[attr-defined]
            for node in ast.walk(tree)
            if isinstance(node, kinds) and ast.get_docstring(node, clean=False)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and REPOSITORY_ONLY.search(node.value)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    for path in sorted((ROOT / "templates").rglob("*.j2")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if REPOSITORY_ONLY.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line[:80]!r}")
    assert not found, found


@pytest.mark.slow
def test_the_wheel_installs_as_the_ci_files_install_it_and_runs_a_project(
    wheel: Path, tmp_path: Path
) -> None:
    """Installed from the wheel with the constraints in a fresh venv outside the repository
    (offline: the dependencies are this environment's, at the pinned versions), mlready writes a
    project and its GitHub workflow; every install line in it installs this distribution at this
    version, which is what the line installs when run; and the project runs end to end."""
    dist = wheel.parent
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    bin_dir, env = _fresh_venv(tmp_path, "venv")
    requirement = f"{DISTRIBUTION}[postgres]=={__version__}"
    offline = ["--no-index", "--find-links", str(dist), "--quiet"]
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            *offline,
            "-c",
            str(ROOT / "constraints.txt"),
            requirement,
        ],
        check=True,
        env=env,
        cwd=work,
    )

    def mlready(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "mlready"), *args], capture_output=True, text=True, env=env, cwd=work
        )

    where = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import mlready, mlready.reporting as r; print(mlready.__file__); "
            "print(r.template_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    ).stdout.splitlines()
    assert where[0].startswith(str(tmp_path / "venv")), where
    assert where[1].startswith(str(tmp_path / "venv")), where

    init = mlready("init", "x", "--ci", "github")
    assert init.returncode == 0, init.stderr
    workflow_text = (work / ".github" / "workflows" / "mlready.yml").read_text()
    workflow = yaml.safe_load(workflow_text)
    installs = [
        s["run"] for s in workflow["jobs"]["pipeline"]["steps"] if "pip install" in s.get("run", "")
    ]
    assert len(installs) == workflow_text.count("pip install") == 1
    for line in installs:
        command = shlex.split(line)
        named = [arg for arg in command[2:] if not arg.startswith("-") and "constraints" not in arg]
        assert named == [requirement], line
    assert (work / ".github" / "mlready-constraints.txt").is_file()

    # the install step, run as written (pip told by its environment to stay offline) in another
    # fresh venv, installs this very wheel
    ci_bin, ci_env = _fresh_venv(tmp_path, "ci-venv")
    ci_env |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(dist), "PIP_QUIET": "1"}
    subprocess.run(["bash", "-ec", installs[0]], check=True, env=ci_env, cwd=work)
    version = subprocess.run(
        [
            str(ci_bin / "python"),
            "-c",
            f"from importlib.metadata import version as v; print(v('{DISTRIBUTION}'))",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=ci_env,
    )
    assert version.stdout.strip() == __version__

    run = mlready("--spec", "x", "run")
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    assert list((work / "x" / ".mlready" / "runs" / "checklist-report").glob("*/checklist.html"))

    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".mlready"))
    check = mlready("--spec", str(project), "spec", "check")
    assert check.returncode == 0, check.stderr


def test_a_missing_extra_names_the_install_that_brings_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlready.errors import DataError, UsageError
    from mlready.registry.db import make_engine
    from mlready.serving.distributed import client_for

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DataError) as postgres:
        make_engine("postgresql+psycopg://ci:secret@db/registry")
    assert (
        postgres.value.hint
        == f"install the PostgreSQL driver: pip install '{DISTRIBUTION}[postgres]'"
    )
    assert "secret" not in str(postgres.value)
    monkeypatch.setitem(sys.modules, "distributed", None)
    dask = re.escape(f"pip install '{DISTRIBUTION}[dask]'")
    with pytest.raises(UsageError, match=dask), client_for("local"):
        pass
