"""The Python API: ``mlready.Project`` runs each step as its command does, returns the result the
command prints (``to_dict()`` is its ``--json``), renders HTML for Jupyter, and never prints.

Most tests read the session's run of docs/python-api.md's worked example (``notebook``), which
trains the starter project twice: the example in the docs is what is tested."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import mlready
from mlready.errors import NotFoundError, SpecError, UsageError
from mlready.history import RunComparison, RunTable
from mlready.project import (
    DriftRun,
    ReadinessRun,
    RegisterRun,
    ServeRun,
    StepRun,
    TrainRun,
    ValidationRun,
)
from mlready.runs import identity_of, read_run_log, verify_run_log
from tests.conftest import ROOT, Notebook

STEP_RESULTS = (ValidationRun, TrainRun, RegisterRun, ServeRun, DriftRun, ReadinessRun)


def _project(notebook: Notebook) -> mlready.Project:
    project = notebook.namespace["project"]
    assert isinstance(project, mlready.Project)
    return project


def test_import_mlready_is_light_and_its_api_is_listed() -> None:
    code = (
        "import json, sys, mlready\n"
        "project_class = mlready.Project\n"
        "heavy = sorted(m for m in ('pandas', 'sklearn', 'great_expectations', 'scipy')"
        " if m in sys.modules)\n"
        "missing = [n for n in mlready.__all__ if getattr(mlready, n, None) is None]\n"
        "print(json.dumps({'heavy': heavy, 'missing': missing, 'all': mlready.__all__,"
        " 'dir': 'Project' in dir(mlready)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    assert found["heavy"] == [], "import mlready (and mlready.Project) must stay light"
    assert found["missing"] == []
    assert found["dir"]
    for name in ("Project", "TrainRun", "RunComparison", "RunTable", "StepRun"):
        assert name in found["all"]


def test_the_worked_example_runs_and_every_result_renders_html(notebook: Notebook) -> None:
    values = list(notebook.namespace.values()) + notebook.shown
    kinds = {type(v) for v in values if isinstance(v, StepRun | RunComparison | RunTable)}
    assert kinds >= {*STEP_RESULTS, RunComparison, RunTable}, kinds
    for value in values:
        if not isinstance(value, StepRun | RunComparison | RunTable):
            continue
        page = value._repr_html_()
        assert page.strip(), type(value).__name__
        assert "<script" not in page.lower()
        assert not re.search(r"src=(\"|&#34;)https?:", page), "no CDN: nothing is fetched"
        if isinstance(value, StepRun):
            assert html.escape(value.verdict, quote=False) in page
            assert value.run_id in page
            if value.report is not None:
                # the report itself, escaped into the sandboxed iframe's srcdoc
                assert '<iframe sandbox="" ' in page
                assert 'srcdoc="&lt;!DOCTYPE html&gt;' in page
            json.dumps(value.to_dict(), default=str)  # JSON-ready


def test_the_example_s_results_say_what_happened(notebook: Notebook) -> None:
    ns = notebook.namespace
    first, second = ns["first"], ns["second"]
    assert isinstance(first, TrainRun)
    assert isinstance(second, TrainRun)
    assert first.passed
    assert first.report == first.run_dir / "training.html"
    assert first.report.is_file()
    assert set(first.metrics) == {"roc_auc", "f1", "accuracy"}
    assert "support_calls" in first.result.metadata["features"]["numeric"]
    assert "support_calls" not in second.result.metadata["features"]["numeric"]
    registration = ns["registration"]
    assert isinstance(registration, RegisterRun)
    assert registration.result.version.run_id == second.run_id  # the newest passing run
    assert registration.to_dict()["run_id"] == second.run_id  # as `register --json` says it
    assert registration.report is None
    scores = ns["scores"]
    assert isinstance(scores, ServeRun)
    assert scores.result.rows_scored > 0
    assert Path(scores.result.files["output"]).is_file()
    readiness = ns["readiness"]
    assert isinstance(readiness, ReadinessRun)
    assert readiness.report is not None
    assert readiness.report.name == "checklist.html"
    assert readiness.next_actions  # the gaps, with what to do


def test_steps_run_from_python_are_recorded_as_the_commands_record_them(
    notebook: Notebook,
) -> None:
    project = _project(notebook)
    records = read_run_log(project.artifacts_dir)
    steps = [r.step for r in records[:8]]
    assert steps == [
        "validate-data",
        "train",
        "train",
        "register",
        "serve-batch",
        "serve",
        "check-drift",
        "checklist-report",
    ]
    first = records[1]
    assert first.run_id == notebook.namespace["first"].run_id  # type: ignore[attr-defined]
    assert first.summary["model_sha256"]
    assert first.provenance["project_id"] == identity_of(project.spec)
    assert first.user == "notebook"
    checked = verify_run_log(project.artifacts_dir, identity_of(project.spec))
    assert checked.problems == []


def test_to_dict_is_what_the_command_prints(notebook: Notebook, run_cli) -> None:
    project = _project(notebook)
    spec = str(project.path)
    listed = run_cli("--spec", spec, "runs", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == project.runs().to_dict()
    compared = run_cli("--spec", spec, "runs", "compare", "train~1", "train", "--json")
    assert compared.exit_code == 0, compared.stderr
    expected = json.loads(json.dumps(project.compare("train~1", "train").to_dict(), default=str))
    assert json.loads(compared.stdout) == {**expected, "html": None}
    # a step: the command's JSON and the API's to_dict() have the same content, run for run
    cli = json.loads(run_cli("--spec", spec, "validate-data", "--json").stdout)
    api = project.validate().to_dict()
    assert set(cli) == set(api)
    assert cli["run_id"] != api["run_id"]  # two runs, recorded the same way
    for run_specific in ("run_id", "run_dir", "report", "duration_s"):
        del cli[run_specific], api[run_specific]
    assert json.loads(json.dumps(api, default=str)) == cli


def test_a_failed_check_is_a_result_not_an_exception(notebook: Notebook) -> None:
    project = _project(notebook)
    under = project.readiness(fail_under=7)
    assert not under.passed
    assert under.exit_code == 1
    assert under.failures == ["the passing now score is under the bar of 7"]
    assert under.verdict.startswith("readiness ")
    assert "is UNDER the bar of 7" in under.verdict
    page = under._repr_html_()
    assert 'class="mlready-verdict mlready-fail"' in page
    assert read_run_log(project.artifacts_dir)[-1].status == "failed"


def test_the_library_never_prints(notebook: Notebook, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(notebook)
    capsys.readouterr()
    project.runs("train", last=1)
    project.compare("train~1", "train")
    project.readiness()
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_an_edit_to_the_spec_is_read_by_the_next_step(notebook: Notebook) -> None:
    project = _project(notebook)
    assert "support_calls" not in project.spec.raw["data"]["features"]["numeric"]
    assert project.name == "churn-demo"


def test_bad_input_raises_the_error_the_command_prints(notebook: Notebook, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as missing:
        mlready.Project(tmp_path / "nowhere")
    assert missing.value.exit_code == 3
    project = _project(notebook)
    with pytest.raises(NotFoundError, match=r"no run train~9: .* holds only \d+ train run"):
        project.compare("train~9", "train")
    with pytest.raises(UsageError, match="unknown command 'bogus'"):
        project.runs("bogus")
    with pytest.raises(UsageError, match="last must be at least 1"):
        project.runs(last=0)
    with pytest.raises(UsageError, match="--allow-failing needs --reason"):
        project.register(allow_failing=True)


def test_the_card_escapes_what_it_shows_and_the_report_it_embeds(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text('<!DOCTYPE html><p title="x">a & b</p>', encoding="utf-8")
    result = SimpleNamespace(
        passed=False,
        failures=["<script>alert(1)</script> broke"],
        warnings=['"quoted" & <b>bold</b>'],
        to_dict=dict,
    )
    run = StepRun("train", "20260101T000000Z-abcdef", tmp_path, result, report)
    page = run._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; broke" in page
    assert "&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    # the report's own markup, escaped once into srcdoc: the iframe parses it back
    assert 'srcdoc="&lt;!DOCTYPE html&gt;&lt;p title=&#34;x&#34;&gt;a &amp; b&lt;/p&gt;"' in page
    assert run.to_dict() == {"run_id": run.run_id, "run_dir": str(tmp_path), "report": str(report)}
    report.unlink()  # the report was removed since: the card alone, no empty frame
    assert "<iframe" not in run._repr_html_()


def test_every_public_method_and_name_is_documented() -> None:
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    methods = [n for n in vars(mlready.Project) if not n.startswith("_")]
    assert len(methods) >= 12
    for name in methods:
        assert f".{name}" in page, f"docs/python-api.md does not mention Project.{name}"
        assert (getattr(mlready.Project, name).__doc__ or "").strip(), f"{name} has no docstring"
    for name in mlready.__all__:
        spec_and_package = ("DISTRIBUTION", "EXIT_CODES", "LoadedSpec", "ProjectSpec")
        if name not in (*spec_and_package, "__version__", "load_spec"):
            assert name in page, f"docs/python-api.md does not mention {name}"


def test_the_cli_runs_each_step_through_the_library_functions() -> None:
    """The commands open no run of their own: each calls mlready.project.steps (the function
    the API calls), so a step cannot behave differently from a terminal and a notebook."""
    for path in sorted((ROOT / "mlready" / "cli").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name in ("project_tests.py", "serve_http.py"):
            # `mlready test` and the long-running `mlready serve` are no steps of the Python API
            continue
        assert "start_run" not in text, f"{path.name} opens a run itself"
    steps = (ROOT / "mlready" / "project" / "steps.py").read_text(encoding="utf-8")
    api = (ROOT / "mlready" / "project" / "api.py").read_text(encoding="utf-8")
    for function in re.findall(r"^def (run_[a-z_]+)\(", steps, flags=re.MULTILINE):
        assert function in api, f"Project does not call {function}"
        users = [
            p.name
            for p in (ROOT / "mlready" / "cli").glob("*.py")
            if function in p.read_text(encoding="utf-8")
        ]
        assert users, f"no command calls {function}"


def test_project_site_writes_the_site_and_links_its_pages(notebook: Notebook, run_cli) -> None:
    from mlready.site import SiteResult

    project = _project(notebook)
    site = notebook.namespace["site"]
    assert isinstance(site, SiteResult)
    assert site.index == project.path.parent / ".mlready" / "site" / "index.html"
    assert site.index in site.pages
    for page in site.pages:
        assert page.is_file(), page
    first = notebook.namespace["first"]
    assert any(first.run_id in page.read_text(encoding="utf-8") for page in site.pages)
    shown = site._repr_html_()
    assert site.index.resolve().as_uri() in shown
    assert all(page.resolve().as_uri() in shown for page in site.pages)
    assert "<script" not in shown.lower()
    # what `mlready site --json` prints
    result = run_cli("--spec", str(project.path), "--json", "site")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["index"] == site.to_dict()["index"]
    assert printed["pages"] == site.to_dict()["pages"]


def test_a_train_run_holds_its_report_s_curves(notebook: Notebook) -> None:
    first = notebook.namespace["first"]
    assert isinstance(first, TrainRun)
    assert first.curves == first.result.metadata["validation"]["curves"]
    assert first.curves["kind"] == "binary"
    # no holdout: the out-of-fold rows pooled (their AUC is not the mean of the folds' AUCs)
    assert first.curves["basis"] == "cv"
    folds = first.result.metadata["validation"]["per_fold"]
    assert first.curves["rows"] == sum(f["validation_rows"] for f in folds)
    assert first.curves["roc"]["auc"] == pytest.approx(first.metrics["roc_auc"], abs=0.05)
    assert "pooled" in first.report.read_text(encoding="utf-8")
    assert notebook.namespace["curves"] == first.curves


def test_a_server_started_from_python_answers_and_is_recorded(notebook: Notebook) -> None:
    from mlready.errors import DataError

    project = _project(notebook)
    server = notebook.namespace["server"]
    answer = notebook.namespace["answer"]
    assert len(answer["predictions"]) == 3
    assert server.summary["rows_scored"] == 3
    assert server.summary["canary"] is True
    assert not server.ready
    assert server.stop() is server.summary  # stopping twice is fine
    served = [r for r in read_run_log(project.artifacts_dir) if r.step == "serve"]
    assert [r.run_id for r in served] == [server.run_id]
    assert served[0].summary["predict_requests"] == 1
    assert served[0].status == "passed"
    # a refused request raises the error with the server's message; the server keeps serving
    records = notebook.namespace["records"]
    with project.serve() as again:
        assert again.ready
        assert again.url.startswith("http://127.0.0.1:")
        with pytest.raises(DataError, match="422 columns: the request lacks"):
            again.predict([{"nothing": 1}])
        assert len(again.predict(records)["predictions"]) == 3
    assert again.summary is not None
    assert again.summary["server_errors"] == 0
