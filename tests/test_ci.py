"""The CI configurations `mlready init --ci` writes: valid against the official schemas, installing
this very mlready with its constraints, and honest about where the registry lives."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlready import DISTRIBUTION, __version__
from mlready.ci import CONSTRAINTS, TARGETS

from .conftest import ROOT

SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}


def _repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _schema_errors(system: str, path: Path) -> str:
    """check-jsonschema against the official schema it vendors (no download); '' when valid."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            SCHEMAS[system],
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def _install_commands(text: str) -> list[list[str]]:
    """Every pip install command in a CI configuration, as argument lists."""
    found: list[list[str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            for line in node.splitlines():
                if re.search(r"\bpip3? install\b", line):
                    found.append(shlex.split(line))

    walk(yaml.safe_load(text))
    assert len(found) == len([ln for ln in text.splitlines() if "pip install" in ln])
    return found


def _pins(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_the_configurations_are_valid_against_the_official_schemas(
    system: str, tmp_path: Path, run_cli
) -> None:
    root = _repo(tmp_path)
    result = run_cli("init", str(root / "ml project #2"), "--ci", system)
    assert result.exit_code == 0, result.stderr
    target = root / TARGETS[system]
    assert _schema_errors(system, target) == ""
    # the check can fail: a key the schema does not know is reported
    broken = tmp_path / f"broken-{system}.yml"
    config = yaml.safe_load(target.read_text())
    if system == "github":
        config["jobs"]["pipeline"]["timeout"] = 5  # the key is timeout-minutes
    else:
        config["mlready"]["artifacts"]["reports"]["junit_xml"] = "x.xml"  # the key is junit
    broken.write_text(yaml.safe_dump(config).replace("true:", "on:", 1))
    assert _schema_errors(system, broken) != ""


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_ci_installs_this_mlready_with_the_constraints_it_ships(
    system: str, tmp_path: Path, run_cli
) -> None:
    root = _repo(tmp_path)
    assert run_cli("init", str(root / "p"), "--ci", system).exit_code == 0
    [command] = _install_commands((root / TARGETS[system]).read_text())
    assert command == [
        "pip",
        "install",
        "-c",
        CONSTRAINTS[system],
        f"{DISTRIBUTION}[postgres]=={__version__}",
    ]
    shipped = (root / CONSTRAINTS[system]).read_text()
    assert _pins(shipped) == _pins((ROOT / "constraints.txt").read_text())
    assert f"{DISTRIBUTION} {__version__}" in shipped.splitlines()[0]


def test_ci_install_in_the_spec_names_another_build(tmp_path: Path, run_cli) -> None:
    root = _repo(tmp_path)
    assert run_cli("init", str(root / "p")).exit_code == 0
    spec = root / "p" / "mlready.yaml"
    wanted = f"{DISTRIBUTION}[postgres] @ git+https://example.org/team/mlready@v0.2"
    spec.write_text(spec.read_text() + f'ci:\n  install: "{wanted}"\n')
    assert run_cli("--spec", str(spec), "init", str(root), "--ci", "github").exit_code == 0
    [command] = _install_commands((root / TARGETS["github"]).read_text())
    assert command[-1] == wanted


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mlready==0.1.0", "another author's package"),
        ("pandas", "CI must install mlready"),
        ("-e .", "not pip options"),
    ],
)
def test_ci_install_refuses_what_is_not_this_mlready(
    tmp_path: Path, run_cli, value: str, message: str
) -> None:
    assert run_cli("init", str(tmp_path / "p")).exit_code == 0
    spec = tmp_path / "p" / "mlready.yaml"
    spec.write_text(spec.read_text() + f'ci:\n  install: "{value}"\n')
    result = run_cli("--spec", str(spec), "spec", "check")
    assert result.exit_code == 3
    assert "ci.install" in result.stderr
    assert message in result.stderr


def _registry_step(root: Path) -> str:
    workflow = yaml.safe_load((root / TARGETS["github"]).read_text())
    steps = workflow["jobs"]["pipeline"]["steps"]
    found = [s["run"] for s in steps if s.get("name") == "Registry"]
    return found[0] if found else ""


@pytest.mark.parametrize(
    ("event", "url", "expected"),
    [
        ("push", "", "> [!WARNING]\n> The registry is the SQLite file in .mlready/, kept only"),
        ("pull_request", "", "> [!NOTE]\n> This pull request's registry is the SQLite file"),
        ("push", "postgresql+psycopg://ci@db/registry", ""),
    ],
)
def test_the_job_summary_says_when_the_registry_is_the_cached_file(
    tmp_path: Path, run_cli, event: str, url: str, expected: str
) -> None:
    root = _repo(tmp_path / "repo")
    assert run_cli("init", str(root / "p"), "--ci", "github").exit_code == 0
    summary = tmp_path / "summary.md"
    summary.touch()
    env = {
        **os.environ,
        "GITHUB_EVENT_NAME": event,
        "MLREADY_REGISTRY_URL": url,
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-ec", _registry_step(root)], env=env, capture_output=True, text=True, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert summary.read_text().startswith(expected)
    if not expected:
        assert "MLREADY_REGISTRY_URL" in done.stdout


def test_a_registry_server_in_the_spec_needs_no_warning(tmp_path: Path, run_cli) -> None:
    root = _repo(tmp_path)
    assert run_cli("init", str(root / "p")).exit_code == 0
    spec = root / "p" / "mlready.yaml"
    text = spec.read_text()
    assert "\nregistry:\n" in text
    spec.write_text(
        text.replace("\nregistry:\n", "\nregistry:\n  url: postgresql+psycopg://ci@db/reg\n")
    )
    for system in ("github", "gitlab"):
        assert run_cli("--spec", str(spec), "init", str(root), "--ci", system).exit_code == 0
    assert _registry_step(root) == ""
    assert "MLREADY_REGISTRY_URL is not set" not in (root / TARGETS["gitlab"]).read_text()


def test_the_gitlab_job_warns_in_its_log_without_a_registry_url(tmp_path: Path, run_cli) -> None:
    root = _repo(tmp_path)
    assert run_cli("init", str(root), "--ci", "gitlab").exit_code == 0
    script = yaml.safe_load((root / TARGETS["gitlab"]).read_text())["mlready"]["script"]
    [check] = [line for line in script if "MLREADY_REGISTRY_URL" in line]
    env = {k: v for k, v in os.environ.items() if k != "MLREADY_REGISTRY_URL"}
    unset = subprocess.run(["bash", "-ec", check], env=env, capture_output=True, text=True)
    assert "warning: MLREADY_REGISTRY_URL is not set" in unset.stdout
    env["MLREADY_REGISTRY_URL"] = "postgresql+psycopg://ci@db/registry"
    given = subprocess.run(["bash", "-ec", check], env=env, capture_output=True, text=True)
    assert given.stdout == ""


def test_a_constraints_file_of_the_users_is_kept_without_force(tmp_path: Path, run_cli) -> None:
    root = _repo(tmp_path)
    mine = root / CONSTRAINTS["github"]
    mine.parent.mkdir(parents=True)
    mine.write_text("pandas==3.1.1\n")
    refused = run_cli("init", str(root / "p"), "--ci", "github")
    assert refused.exit_code == 2
    assert "mlready-constraints.txt exists already" in refused.stderr
    assert mine.read_text() == "pandas==3.1.1\n"
    assert not (root / TARGETS["github"]).exists(), "nothing half-written"
    forced = run_cli("--spec", str(root / "p"), "init", str(root), "--ci", "github", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert _pins(mine.read_text()) == _pins((ROOT / "constraints.txt").read_text())


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_ci_keeps_the_project_site_and_what_it_links_to_but_no_model(
    system: str, tmp_path: Path, run_cli
) -> None:
    import glob

    root = _repo(tmp_path)
    assert run_cli("init", str(root / "p"), "--ci", system).exit_code == 0
    config = yaml.safe_load((root / TARGETS[system]).read_text())
    if system == "github":
        [upload] = [
            s for s in config["jobs"]["pipeline"]["steps"] if "upload-artifact" in s.get("uses", "")
        ]
        patterns = upload["with"]["path"].split()
    else:
        patterns = config["mlready"]["artifacts"]["paths"]
    run = root / "p" / ".mlready" / "runs" / "train" / "20260101T000000Z-abcdef"
    run.mkdir(parents=True)
    files = ["training.html", "metadata.json", "run.log", "model.joblib", "model.skops"]
    for name in files:
        (run / name).write_text("x")
    (root / "p" / ".mlready" / "site").mkdir()
    (root / "p" / ".mlready" / "site" / "index.html").write_text("x")
    kept = set()
    for pattern in patterns:
        for found in glob.glob(str(root / pattern)):
            path = Path(found)
            kept |= {path} if path.is_file() else set(path.rglob("*"))
    names = {
        p.relative_to(root / "p" / ".mlready").as_posix() for p in kept if "p/.mlready" in str(p)
    }
    assert "site/index.html" in names
    for name in ("training.html", "metadata.json", "run.log"):
        assert f"runs/train/{run.name}/{name}" in names
    assert not [n for n in names if n.endswith((".joblib", ".skops"))], names
