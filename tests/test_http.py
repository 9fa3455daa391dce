"""mlready serve: a real server on 127.0.0.1, talked to over HTTP."""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.http_server import Running, get, post_json, request
from tests.serving_data import dirty_batch, make_batch, project_copy, realtime_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return realtime_project(tmp_path_factory.mktemp("http"))


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    return project_copy(trained, tmp_path)


@pytest.fixture
def server(project: Path) -> Iterator[Running]:
    running = Running(project)
    yield running
    running.stop()


def _records(path: Path) -> list[dict]:
    """The CSV's rows as JSON records, numbers parsed as serve-batch parses them."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    records = []
    for row in frame.to_dict("records"):
        for column in ("tenure", "monthly_charges"):
            row[column] = float(row[column]) if row[column] else None
        records.append(row)
    return records


def _serve_batch(run_cli, project: Path, batch: Path, output: Path, *extra: str) -> None:
    result = run_cli(
        "--spec", str(project), "serve-batch", "-i", str(batch), "-o", str(output), *extra
    )
    assert result.exit_code == 0, result.stderr


def test_predictions_equal_serve_batch_to_the_last_bit(
    run_cli, project: Path, server: Running
) -> None:
    make_batch(400, seed=11).to_csv(project / "batch.csv", index=False)
    _serve_batch(run_cli, project, project / "batch.csv", project / "out.parquet", "--no-cache")
    batch = pd.read_parquet(project / "out.parquet")
    status, body, headers = post_json(server.url, {"records": _records(project / "batch.csv")})
    assert status == 200, body
    online = pd.DataFrame(body["predictions"])
    columns = ["customer_id", "prediction", "probability", "model_name", "model_version"]
    assert list(online.columns) == list(batch.columns)
    pd.testing.assert_frame_equal(online[columns], batch[columns], check_exact=True)
    assert headers["X-Mlready-Model-Version"] == "1"
    assert body["model"]["version"] == 1
    assert body["rejected"] == []
    # the same rows as CSV, answered as CSV: the same bytes of numbers
    status, _, raw = request(
        server.url + "/predict",
        (project / "batch.csv").read_bytes(),
        {"Content-Type": "text/csv", "Accept": "text/csv"},
        "POST",
    )
    assert status == 200
    as_csv = pd.read_csv(pd.io.common.BytesIO(raw), dtype={"customer_id": str})
    assert as_csv["probability"].tolist() == batch["probability"].tolist()
    # asked again: answered from the cache, still to the last bit
    status, again, _ = post_json(server.url, {"records": _records(project / "batch.csv")})
    assert [p["probability"] for p in again["predictions"]] == batch["probability"].tolist()
    assert server.service.metrics.cache_hits >= 400


def test_invalid_rows_422_with_the_reasons_of_serve_batch(
    run_cli, project: Path, server: Running
) -> None:
    dirty = dirty_batch(make_batch(200, seed=5), duplicate_of=100)
    dirty.to_csv(project / "dirty.csv", index=False)
    _serve_batch(run_cli, project, project / "dirty.csv", project / "o.parquet", "--quarantine")
    rejected = pd.read_parquet(project / "o.rejected.parquet")
    expected = dict(zip(rejected["_mlready_row"], rejected["_mlready_reasons"], strict=True))
    body = (project / "dirty.csv").read_bytes()
    headers = {"Content-Type": "text/csv"}
    # the toy spec quarantines (serving.on_invalid); a request may ask to stop instead
    status, _, raw = request(server.url + "/predict?on_invalid=stop", body, headers, "POST")
    answer = json.loads(raw)
    assert status == 422, answer
    assert answer["error"] == "invalid_rows"
    got = {r["row"]: "; ".join(r["reasons"]) for r in answer["rejected"]}
    assert got == expected
    assert all(r["messages"] for r in answer["rejected"])
    status, _, raw = request(server.url + "/predict?on_invalid=quarantine", body, headers, "POST")
    answer = json.loads(raw)
    assert status == 200
    assert {r["row"]: "; ".join(r["reasons"]) for r in answer["rejected"]} == expected
    scored = pd.read_parquet(project / "o.parquet")
    online = pd.DataFrame(answer["predictions"])
    assert online["customer_id"].tolist() == scored["customer_id"].tolist()
    assert online["probability"].tolist() == scored["probability"].tolist()


BAD = [
    ("malformed JSON", b'{"records": [', "application/json", 400, "malformed_json"),
    ("empty body", b"", "application/json", 400, "empty_body"),
    ("no rows", b'{"records": []}', "application/json", 400, "no_rows"),
    ("not records", b'{"rows": 3}', "application/json", 400, "wrong_shape"),
    ("a list in a cell", b'[{"tenure": [1, 2]}]', "application/json", 400, "wrong_type"),
    ("NaN", b'[{"tenure": NaN}]', "application/json", 400, "not_finite"),
    ("Infinity", b'[{"tenure": Infinity}]', "application/json", 400, "not_finite"),
    ("1e999", b'[{"tenure": 1e999}]', "application/json", 400, "not_finite"),
    ("wrong content type", b"tenure=3", "application/x-www-form-urlencoded", 415, "content_type"),
    ("no content type", b"[]", "", 415, "content_type"),
    ("missing features", b'[{"customer_id": "C00001"}]', "application/json", 422, "columns"),
    ("not UTF-8", b"\xff\xfe{", "application/json", 400, "malformed_json"),
    ("bad CSV", b"a,b\n1,2,3,4\n", "text/csv", 400, "malformed_csv"),
]


def _row(**change: object) -> dict:
    row = {
        "customer_id": "C00001",
        "month": "2025-01-01",
        "tenure": 5.0,
        "monthly_charges": 50.0,
        "plan": "basic",
        "region": "north",
    }
    return {**row, **change}


@pytest.mark.parametrize(
    ("what", "body", "media", "status", "reason"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_gets_its_4xx_and_one_log_line(
    server: Running,
    caplog: pytest.LogCaptureFixture,
    what: str,
    body: bytes,
    media: str,
    status: int,
    reason: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="mlready.http")
    headers = {"Content-Type": media} if media else {}
    got, _, raw = request(server.url + "/predict", body, headers, "POST")
    answer = json.loads(raw)
    assert (got, answer["error"]) == (status, reason), answer
    assert answer["message"]
    assert "Traceback" not in answer["message"]
    lines = [r for r in caplog.records if r.name == "mlready.http"]
    assert len(lines) == 1
    assert reason in lines[0].getMessage()
    assert get(server.url + "/health") == (200, {"status": "ok"})


def test_wrong_types_unknown_categories_missing_ids_huge_bodies(server: Running) -> None:
    url = server.url
    status, answer, _ = post_json(url, [_row(tenure="lots")], "?on_invalid=stop")
    assert status == 422
    assert answer["rejected"][0]["reasons"] == ["tenure.type"]
    status, answer, _ = post_json(url, [_row(plan="platinum")], "?on_invalid=stop")
    assert status == 422
    assert answer["rejected"][0]["reasons"] == ["plan.allowed_values"]
    status, answer, _ = post_json(url, [_row(region="mars")])  # not in the contract: unseen
    assert status == 200
    assert len(answer["predictions"]) == 1
    status, answer, _ = post_json(url, [_row(customer_id=None)], "?on_invalid=stop")
    assert status == 422
    assert answer["rejected"][0]["reasons"] == ["customer_id.not_null"]
    no_ids = [{k: v for k, v in _row().items() if k != "customer_id"}]
    status, answer, _ = post_json(url, no_ids)
    assert status == 422
    assert "customer_id" in answer["message"]
    status, answer, _ = post_json(url, [_row(customer_id=f"C{i:05d}") for i in range(2001)])
    assert (status, answer["error"]) == (413, "too_many_rows")
    huge = b'{"records": [' + b",".join([json.dumps(_row()).encode()] * 20_000) + b"]}"
    assert len(huge) > 1024 * 1024
    status, answer, _ = post_json(url, huge)
    assert (status, answer["error"]) == (413, "too_large")
    # a million rows (about 120 MB) declared: refused before a byte of the body is read
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
    conn.putrequest("POST", "/predict")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(120 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"] == "too_large"
    conn.close()
    status, answer, _ = post_json(url, [_row()], "?on_invalid=maybe")
    assert (status, answer["error"]) == (400, "bad_parameter")
    assert get(url + "/ready")[0] == 200
    answers = server.service.metrics.requests
    assert not any(s >= 500 for (_, path, s) in answers if path == "/predict")


def test_not_ready_until_the_canary_passed(project: Path, monkeypatch) -> None:
    import mlready.serving

    gate = threading.Event()
    real = mlready.serving.canary

    def held(scorer):
        gate.wait(30)
        return real(scorer)

    monkeypatch.setattr(mlready.serving, "canary", held)
    running = Running(project, wait_ready=False)
    try:
        assert get(running.url + "/health") == (200, {"status": "ok"})
        status, answer = get(running.url + "/ready")
        assert status == 503
        assert answer["ready"] is False
        status, answer, _ = post_json(running.url, [_row()])
        assert (status, answer["error"]) == (503, "not_ready")
        assert get(running.url + "/model")[0] == 503
        gate.set()
        running.wait_ready(30)
        status, answer = get(running.url + "/ready")
        assert answer["ready"] is True
        assert answer["canary"]["passed"] is True
        assert get(running.url + "/model")[1]["version"] == 1
    finally:
        gate.set()
        running.stop()


def test_a_failing_canary_is_never_ready(project: Path, monkeypatch) -> None:
    import mlready.serving
    from mlready.errors import CheckFailed

    def broken(scorer):
        raise CheckFailed("canary: the model answers NaN for its input example")

    monkeypatch.setattr(mlready.serving, "canary", broken)
    running = Running(project, wait_ready=False)
    try:
        import time

        deadline = time.monotonic() + 30
        while running.service.slot.error is None:
            assert time.monotonic() < deadline, "the model was not tried"
            time.sleep(0.05)
        status, answer = get(running.url + "/ready")
        assert status == 503
        assert "NaN" in answer["reason"]
        assert post_json(running.url, [_row()])[0] == 503
    finally:
        running.stop()


METRIC = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)\})? (?P<value>[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?'
    r"|\+Inf|-Inf|NaN))$"
)


def parse_prometheus(text: str) -> dict[str, dict[str, float]]:
    """The samples of a Prometheus text exposition, by family; AssertionError on a bad line."""
    families: dict[str, str] = {}
    samples: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            families[name] = kind
            continue
        match = METRIC.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name = match["name"]
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in families or base in families, f"{name} has no TYPE line"
        samples.setdefault(name, {})[match["labels"] or ""] = float(match["value"])
    return samples


def test_metrics_parse_as_prometheus_text(server: Running) -> None:
    post_json(server.url, [_row()])
    post_json(server.url, [_row()])  # a cache hit
    post_json(server.url, [_row(plan="platinum")], "?on_invalid=stop")
    request(server.url + "/predict", b"{", {"Content-Type": "application/json"}, "POST")
    status, headers, raw = request(server.url + "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse_prometheus(raw.decode())
    requests = samples["mlready_http_requests_total"]
    assert requests['method="POST",path="/predict",status="200"'] == 2
    assert requests['method="POST",path="/predict",status="422"'] == 1
    assert samples["mlready_rows_scored_total"][""] == 2
    assert samples["mlready_rows_rejected_total"]['reason="plan.allowed_values"'] == 1
    assert samples["mlready_cache_hits_total"][""] == 1
    assert samples["mlready_cache_misses_total"][""] == 1
    assert samples["mlready_http_request_errors_total"]['reason="malformed_json"'] == 1
    buckets = samples["mlready_predict_latency_seconds_bucket"]
    assert buckets['le="+Inf"'] == samples["mlready_predict_latency_seconds_count"][""] == 4
    assert list(buckets.values()) == sorted(buckets.values())  # cumulative
    assert samples["mlready_model_version"][""] == 1
    assert samples["mlready_ready"][""] == 1


@pytest.fixture(scope="module")
def two_versions(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained project with a second version (other training data) registered, not promoted."""
    from mlready.cli.app import main
    from tests.training_data import toy_frame

    folder = tmp_path_factory.mktemp("two") / "project"
    shutil.copytree(trained, folder)
    toy_frame(seed=5).to_csv(folder / "data" / "train.csv", index=False)
    for args in (["train", "--no-importance"], ["register"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--quiet", "--spec", str(folder), *args])
        assert exit_info.value.code == 0
    return folder


def test_promote_during_a_load_loop_swaps_with_no_failed_request(
    run_cli, two_versions: Path, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(two_versions, project)
    running = Running(project)
    seen: list[tuple[int, int, set[int], int]] = []  # status, header version, row versions, rows
    stop = threading.Event()
    rows = [_row(customer_id=f"C{i:05d}", tenure=float(i % 70)) for i in range(20)]

    def load() -> None:
        while not stop.is_set():
            status, answer, headers = post_json(running.url, rows)
            versions = {p["model_version"] for p in answer.get("predictions", [])}
            seen.append(
                (status, int(headers["X-Mlready-Model-Version"] or 0), versions, len(versions))
            )

    clients = [threading.Thread(target=load) for _ in range(3)]
    try:
        for client in clients:
            client.start()
        import time

        time.sleep(0.5)
        result = run_cli(
            "--spec", str(project), "registry", "promote", "toy:2", "--force", "--reason", "test"
        )
        assert result.exit_code == 0, result.stderr
        deadline = time.monotonic() + 20
        while not any(v == 2 for _, v, _, _ in seen[-3:]):
            assert time.monotonic() < deadline, "the server did not swap to version 2"
            time.sleep(0.05)
        result = run_cli("--spec", str(project), "registry", "rollback")
        assert result.exit_code == 0, result.stderr
        while not any(v == 1 for _, v, _, _ in seen[-3:]):
            assert time.monotonic() < deadline, "the server did not swap back to version 1"
            time.sleep(0.05)
    finally:
        stop.set()
        for client in clients:
            client.join()
        running.stop()
    assert all(status == 200 for status, _, _, _ in seen), {s for s, _, _, _ in seen}
    assert all(versions == {header} for _, header, versions, _ in seen)  # never mixed
    order = [v for _, v, _, _ in seen]
    assert 2 in order
    # version 1 answers again after version 2 (a request in flight during the swap back may
    # still finish on version 2 after it: clients run at once, so order[-1] is not the last swap)
    assert 1 in order[order.index(2) :]
    assert running.service.metrics.swaps == 2
    cache = running.service.cache
    assert cache is not None
    assert cache.sha256 == running.service.slot.current.sha256
    assert len(cache) <= 20  # cleared on each swap; the old model's late answers not kept
    profiles = {p.name: json.loads(p.read_text()) for p in running.folder.glob("*.json")}
    assert profiles["batch_profile.toy-v1.json"]["batch"]["model"]["version"] == 1
    assert profiles["batch_profile.toy-v2.json"]["batch"]["model"]["version"] == 2
    assert profiles["batch_profile.json"]["batch"]["model"]["version"] == 1


def test_sla_breach_fires_the_sla_breach_rules(project: Path) -> None:
    import time

    spec = project / "mlready.yaml"
    text = spec.read_text(encoding="utf-8").replace(
        "  realtime: {", "  realtime: {p99_ms: 0.001, window_seconds: 1, min_requests: 3, "
    )
    text += (
        "monitoring:\n"
        "  channels: {log: {type: log, path: alerts.log}}\n"
        "  alerts:\n"
        "    - {name: slow, when: sla_breach, severity: warning, owner: tests,\n"
        "       runbook: scale out, action: notify, channels: [log]}\n"
    )
    spec.write_text(text, encoding="utf-8")
    running = Running(project)
    try:
        # requests until a window judged holds min_requests of them (on a busy machine a few
        # requests may straddle two windows)
        deadline = time.monotonic() + 20
        while not running.service.sla.alerts:
            assert time.monotonic() < deadline, "no sla_breach alert"
            assert post_json(running.url, [_row()])[0] == 200
    finally:
        running.stop()
    sent = running.service.sla.alerts[0]
    assert sent["rule"] == "slow"
    assert sent["event"] == "sla_breach"
    assert sent["deliveries"]["log"]["delivered"] is True
    assert "p99 latency" in (project / "alerts.log").read_text(encoding="utf-8")
    assert running.service.metrics.sla_breaches >= 1
