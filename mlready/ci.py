"""``mlready init --ci github|gitlab``: a CI configuration that runs the pipeline.

It installs the mlready that wrote it (``mlready-cli[postgres]==<this version>``, or the spec's
``ci.install``) with the versions its test suite ran with (a constraints file written beside it),
keeps the registry in the database of ``MLREADY_REGISTRY_URL`` when CI provides one (the SQLite
file in the CI cache otherwise, said in the job's summary), runs once per change (push to the
default branch, pull request), one run per branch at a time, and publishes the reports and the
JUnit XML of the project's tests and of the data validation.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from mlready.errors import InternalError, UsageError

__all__ = ["CI_SYSTEMS", "CONSTRAINTS", "constraints_text", "install_requirement", "write_ci"]

CI_SYSTEMS = ("github", "gitlab")
#: Where each system's configuration finds its constraints, relative to the repository's root.
CONSTRAINTS = {
    "github": ".github/mlready-constraints.txt",
    "gitlab": ".gitlab/mlready-constraints.txt",
}
#: The CI configuration's own path, relative to the repository's root.
TARGETS = {"github": ".github/workflows/mlready.yml", "gitlab": ".gitlab-ci.yml"}

_GITHUB = """\
# Written by `mlready init --ci github` (@@distribution@@ @@version@@).
# On every push to @@branch@@ and every pull request: install mlready, check the spec, run the
# pipeline (unchanged steps are skipped: .mlready/ is cached between runs), publish the readiness
# summary and the JUnit results of the project's tests and of the data validation, and upload
# this run's reports with the project site (.mlready/site/index.html, and the run reports it
# links to; never the model files). The job fails when a step fails or readiness is under
# checklist.pass_bar.
#
# The registry: add a repository secret MLREADY_REGISTRY_URL holding a PostgreSQL URL
# (postgresql+psycopg://user:password@host:5432/db). Versions and the production alias then
# outlive the CI cache (GitHub evicts it after 7 days unused) and are one registry for every
# branch. Pushes to @@branch@@ use it; pull requests never do, so they cannot move production.
# Without it the registry is the SQLite file in .mlready/, kept in the CI cache only, and the job
# summary warns of it. Model files stay in registry.artifact_store (default: in .mlready/, so in
# the cache): after an eviction the pipeline trains and registers again.
name: mlready
on:
  push:
    branches: [@@branch_yaml@@]
  pull_request:
permissions:
  contents: read
concurrency:  # one run per branch at a time; a new push cancels a pull request's older run
  group: mlready-${{ github.ref }}
  cancel-in-progress: ${{ github.event_name == 'pull_request' }}
jobs:
  pipeline:
    runs-on: ubuntu-latest
    env:
      MLREADY_REGISTRY_URL: ${{ github.event_name == 'push' && secrets.MLREADY_REGISTRY_URL || '' }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
          cache-dependency-path: @@constraints@@
      - name: Install mlready
        run: @@install_yaml@@
      - name: Restore the run log, registry and cache
        uses: actions/cache/restore@v4
        with:
          path: @@artifacts_yaml@@
          key: mlready-${{ github.ref_name }}-${{ github.run_id }}
          restore-keys: |
            mlready-${{ github.ref_name }}-
            mlready-@@branch@@-
@@registry_step@@      - name: Check the spec
        run: @@check_yaml@@
      - name: Run the pipeline
        run: @@run_yaml@@
      - name: Readiness summary
        if: always()
        run: |
          if [ -f mlready-reports/checklist.md ]; then
            cat mlready-reports/checklist.md >> "$GITHUB_STEP_SUMMARY"
          fi
      - name: Test and data validation results
        if: always()
        shell: python
        run: |
          import glob, os, xml.etree.ElementTree as ET
          lines = []
          for path in sorted(glob.glob("mlready-reports/*/junit.xml")):
              cases = list(ET.parse(path).getroot().iter("testcase"))
              bad = [c for c in cases
                     if c.find("failure") is not None or c.find("error") is not None]
              step = os.path.basename(os.path.dirname(path))
              lines.append(f"- **{step}**: {len(cases) - len(bad)} of {len(cases)} passed")
              lines += [f"  - failed: {c.get('classname')}: {c.get('name')}" for c in bad[:30]]
          if lines:
              with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
                  summary.write("### JUnit results\\n\\n" + "\\n".join(lines) + "\\n\\n")
      - name: Upload the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: mlready-reports
          path: |
            mlready-reports/
            @@artifacts@@/runs.jsonl
            @@artifacts@@/site/
            @@artifacts@@/runs/*/*/*.html
            @@artifacts@@/runs/*/*/*.json
            @@artifacts@@/runs/*/*/*.xml
            @@artifacts@@/runs/*/*/run.log
          if-no-files-found: ignore
      # saved even when the job fails (under the bar, drift): the evidence keeps building up
      - name: Save the run log, registry and cache
        if: always()
        uses: actions/cache/save@v4
        with:
          path: @@artifacts_yaml@@
          key: mlready-${{ github.ref_name }}-${{ github.run_id }}
"""

_GITHUB_REGISTRY_STEP = """\
      - name: Registry
        run: |
          if [ -n "$MLREADY_REGISTRY_URL" ]; then
            echo "registry: the database of the MLREADY_REGISTRY_URL secret"
          elif [ "$GITHUB_EVENT_NAME" = pull_request ]; then
            msg="This pull request's registry is the SQLite file in .mlready/, in its CI cache:"
            msg="$msg MLREADY_REGISTRY_URL is used by pushes to @@branch@@ only, so a pull"
            msg="$msg request never moves production."
            echo "::notice title=mlready registry::$msg"
            printf '> [!NOTE]\\n> %s\\n\\n' "$msg" >> "$GITHUB_STEP_SUMMARY"
          else
            msg="The registry is the SQLite file in .mlready/, kept only in the CI cache, which"
            msg="$msg GitHub evicts after 7 days unused: add a repository secret"
            msg="$msg MLREADY_REGISTRY_URL with a PostgreSQL URL to keep versions and the"
            msg="$msg production alias."
            echo "::warning title=mlready registry::$msg"
            printf '> [!WARNING]\\n> %s\\n\\n' "$msg" >> "$GITHUB_STEP_SUMMARY"
          fi
"""

_GITLAB = """\
# Written by `mlready init --ci gitlab` (@@distribution@@ @@version@@).
# On every push and merge request (a branch with an open merge request runs once, as the merge
# request): install mlready, check the spec, run the pipeline (unchanged steps are skipped:
# .mlready/ is cached per branch), print the readiness summary, publish the JUnit results of the
# project's tests and of the data validation, and keep this run's reports and the project site
# (.mlready/site/index.html, with the run reports it links to) as artifacts (never the model
# files). The job fails when a step fails or readiness is under checklist.pass_bar.
#
# The registry: add a CI/CD variable MLREADY_REGISTRY_URL (Settings > CI/CD > Variables) holding a
# PostgreSQL URL (postgresql+psycopg://user:password@host:5432/db), protected and masked.
# Versions and the production alias then outlive the cache and are one registry for every
# branch; a protected variable reaches protected branches only, so a merge request cannot move
# production. Without it the registry is the SQLite file in .mlready/, kept in the cache only, and
# the job log warns of it. Model files stay in registry.artifact_store (default: in .mlready/, so
# in the cache): after the cache is lost the pipeline trains and registers again.
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never  # a branch with an open merge request runs once, as the merge request
    - if: $CI_COMMIT_BRANCH

mlready:
  image: python:3.11
  variables:
    PIP_CACHE_DIR: $CI_PROJECT_DIR/.cache/pip
  cache:
    - key: mlready-$CI_COMMIT_REF_SLUG
      when: always  # kept even when the job fails: the evidence keeps building up
      paths:
        - @@artifacts_dir_yaml@@
    - key:
        files:
          - @@constraints@@
        prefix: pip
      paths:
        - .cache/pip
  resource_group: mlready-$CI_COMMIT_REF_SLUG  # one run per branch at a time
  interruptible: true  # a newer pipeline of the branch cancels this one
  script:
    - @@install_yaml@@
@@registry_step@@    - @@check_yaml@@
    - @@run_yaml@@
  after_script:
    - cat mlready-reports/checklist.md || true
  artifacts:
    when: always
    expose_as: mlready reports
    paths:
      - mlready-reports/
      - @@runs_log_yaml@@
      - @@site_yaml@@
      - @@run_html_yaml@@
      - @@run_json_yaml@@
      - @@run_xml_yaml@@
      - @@run_log_yaml@@
    reports:
      junit: mlready-reports/*/junit.xml
"""

_GITLAB_REGISTRY_STEP = """\
    - |
      if [ -z "${MLREADY_REGISTRY_URL:-}" ]; then
        msg="MLREADY_REGISTRY_URL is not set (a protected variable: merge requests never get"
        msg="$msg it): the registry is the SQLite file in .mlready/, kept only in this"
        msg="$msg branch's CI cache. Set it to a PostgreSQL URL to keep versions and the"
        msg="$msg production alias."
        printf '\\033[33mwarning: %s\\033[0m\\n' "$msg"
      fi
"""


def constraints_text(system: str) -> str:
    """The versions mlready's test suite ran with, as a constraints file for ``system``'s CI."""
    from mlready import DISTRIBUTION, __version__

    package = Path(__file__).resolve().parent
    for candidate in (package / "constraints.txt", package.parent / "constraints.txt"):
        if candidate.is_file():
            pins = [
                line
                for line in candidate.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")
            ]
            break
    else:
        raise InternalError(
            f"mlready's constraints.txt is missing (looked in {package}): reinstall mlready"
        )
    header = [
        f"# Written by `mlready init --ci {system}` ({DISTRIBUTION} {__version__}): the versions",
        "# mlready's test suite ran with, which the CI configuration installs (pip install -c).",
        "# Delete a line to let pip choose; `mlready init --ci ... --force` rewrites the file.",
    ]
    return "\n".join([*header, *pins]) + "\n"


def install_requirement(ci_install: str | None) -> str:
    """What CI installs: the spec's ``ci.install``, else this very version of mlready."""
    from mlready import DISTRIBUTION, __version__

    return ci_install or f"{DISTRIBUTION}[postgres]=={__version__}"


def _git(folder: Path, *args: str) -> str:
    from mlready.runs import git_output

    return (git_output(folder, *args) or "").strip()


def _default_branch(root: Path) -> str:
    """The branch CI treats as the default: origin's, else the current one when it is main or
    master, else main."""
    remote = _git(root, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    if remote.startswith("origin/"):
        return remote.removeprefix("origin/")
    current = _git(root, "symbolic-ref", "--short", "HEAD")
    return current if current in ("main", "master") else "main"


def _scalar(text: str) -> str:
    """Plain when it is safe; else a JSON string, which YAML reads the same way (so '#', ': ' or
    quotes in a folder's name cannot cut the line short)."""
    if re.fullmatch(r"[A-Za-z0-9_./=@-][A-Za-z0-9_./=@ -]*", text) and " -" not in text[:1]:
        return text
    return json.dumps(text)


def _fill(template: str, **values: str) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"@@(\w+)@@", value, template)


def write_ci(spec_path: Path, system: str, *, force: bool = False) -> list[Path]:
    """Write the CI configuration of ``system`` and its constraints file at the root of the
    spec's repository (its folder when it is not in one); paths in it are relative to that root.
    Returns the files written."""
    from mlready import DISTRIBUTION, __version__
    from mlready.io import atomic_write_text
    from mlready.spec import load_spec

    if system not in CI_SYSTEMS:
        raise UsageError(f"--ci {system}: use one of {', '.join(CI_SYSTEMS)}")
    loaded = load_spec(spec_path)
    folder = loaded.path.parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    root = Path(top) if top else folder

    def relative(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(root.resolve())) or "."
        except ValueError:
            return str(path)

    target = root / TARGETS[system]
    if target.exists() and not force:
        raise UsageError(f"{target} exists already; pass --force to overwrite it")
    constraints = root / CONSTRAINTS[system]
    pins = constraints_text(system)
    if (
        constraints.exists()
        and not force
        and constraints.read_text(encoding="utf-8", errors="replace") != pins
    ):
        raise UsageError(f"{constraints} exists already; pass --force to overwrite it")

    spec = relative(loaded.path)
    artifacts = relative(Path(loaded.spec.project.artifacts_dir))
    branch = _default_branch(root)
    url = loaded.spec.registry.url
    # a server named in the spec is durable already; a SQLite file in CI is not
    file_registry = url is None or url.startswith("sqlite")
    install = install_requirement(loaded.spec.ci.install)
    install_line = f"pip install -c {CONSTRAINTS[system]} {shlex.quote(install)}"
    values = {
        "distribution": DISTRIBUTION,
        "version": __version__,
        "branch": branch,
        "branch_yaml": _scalar(branch),
        "constraints": CONSTRAINTS[system],
        "artifacts": artifacts,
        "artifacts_yaml": _scalar(artifacts),
        "artifacts_dir_yaml": _scalar(f"{artifacts}/"),
        "runs_log_yaml": _scalar(f"{artifacts}/runs.jsonl"),
        # the project site and what it links to in the run folders (never the model files)
        "site_yaml": _scalar(f"{artifacts}/site/"),
        "run_html_yaml": _scalar(f"{artifacts}/runs/*/*/*.html"),
        "run_json_yaml": _scalar(f"{artifacts}/runs/*/*/*.json"),
        "run_xml_yaml": _scalar(f"{artifacts}/runs/*/*/*.xml"),
        "run_log_yaml": _scalar(f"{artifacts}/runs/*/*/run.log"),
        "install_yaml": _scalar(install_line),
        "check_yaml": _scalar(f"mlready --spec {shlex.quote(spec)} spec check"),
        "run_yaml": _scalar(f"mlready --spec {shlex.quote(spec)} run --report-dir mlready-reports"),
    }
    step = _GITHUB_REGISTRY_STEP if system == "github" else _GITLAB_REGISTRY_STEP
    values["registry_step"] = _fill(step, **values) if file_registry else ""
    text = _fill(_GITHUB if system == "github" else _GITLAB, **values)
    written = []
    for path, content in ((constraints, pins), (target, text)):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, content)
        written.append(path)
    return written
