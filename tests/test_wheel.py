"""A wheel built from the repo installs in a fresh venv, where the CLI and its templates work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLE

pytestmark = pytest.mark.slow


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
    [built] = out.glob("mlready-*.whl")
    return built


def test_wheel_ships_the_templates(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "mlready/templates/base.html.j2" in names
    assert "mlready/templates/init/mlready.yaml.j2" in names


def test_wheel_installs_in_a_fresh_venv_and_works(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The fresh venv sees this environment's third-party packages (no downloads in tests) but
    # not its editable mlready: only the site-packages dir, where the wheel goes first.
    ours = sysconfig.get_paths()["purelib"]
    (fresh_site / "deps.pth").write_text(ours + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--quiet",
            "--no-build-isolation",
            str(wheel),
        ],
        check=True,
        env=env,
    )
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import mlready, mlready.reporting as r; "
            "print(mlready.__file__); print(r.template_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert where[0].startswith(str(fresh_site)), where
    assert where[1] == str(fresh_site / "mlready" / "templates"), where

    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".mlready"))
    mlready = venv / "bin" / "mlready"
    check = subprocess.run(
        [str(mlready), "--spec", str(project), "spec", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    init = subprocess.run(
        [str(mlready), "init", str(tmp_path / "fresh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert init.returncode == 0, init.stderr  # the packaged starter template was found
    render = subprocess.run(
        [str(python), "-c", "from mlready.reporting import render; print(render('base.html.j2'))"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert "<!DOCTYPE html>" in render.stdout
