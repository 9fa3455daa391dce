"""Alerts: the spec's rules (``monitoring.alerts``) fired by events, sent to their channels.

Every fired alert is first appended to ``<artifacts_dir>/alerts.jsonl``, then delivered to each
of its rule's channels (a webhook POST of a Slack-compatible JSON payload, a shell command that
reads the JSON on stdin, or a log file), retried with exponential backoff; the outcome of each
delivery is appended too. An alert is therefore never lost: when every attempt fails it stays
in the log, marked undelivered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mlready.spec import LoadedSpec
from mlready.spec.models import AlertChannel, AlertRule

__all__ = ["ALERT_LOG", "fire", "read_alerts", "record_test_alert", "send_test"]

ALERT_LOG = "alerts.jsonl"
#: First retry delay in seconds; it doubles each retry, up to MAX_BACKOFF.
BACKOFF = 0.5
MAX_BACKOFF = 8.0


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    from mlready.locking import exclusive

    lock = path.with_name(f".{path.name}.lock")
    with exclusive(lock), open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def payload(
    rule: AlertRule,
    loaded: LoadedSpec,
    summary: str,
    details: dict[str, Any],
    *,
    step: str,
    run_id: str,
) -> dict[str, Any]:
    """The alert as JSON: ``text`` for chat tools (Slack-compatible), ``alert`` for machines."""
    project = loaded.spec.project.name
    icon = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}
    text = (
        f"{icon[rule.severity]} [{rule.severity}] {project}: {summary}\n"
        f"Owner: {rule.owner}. Recommended action: {rule.action}.\n"
        f"Runbook: {rule.runbook}"
    )
    return {
        "text": text,
        "alert": {
            "id": f"{run_id}-{rule.name}-{secrets.token_hex(2)}",
            "rule": rule.name,
            "event": rule.when,
            "severity": rule.severity,
            "owner": rule.owner,
            "runbook": rule.runbook,
            "action": rule.action,
            "project": project,
            "step": step,
            "run_id": run_id,
            "summary": summary,
            "details": details,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
    }


def _attempt(channel: AlertChannel, body: bytes, cwd: Path) -> None:
    """One delivery attempt; raises on failure."""
    timeout = channel.timeout.total_seconds()
    if channel.type == "webhook":
        request = urllib.request.Request(
            str(channel.url),
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "mlready"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"HTTP {response.status}")
        return
    if channel.type == "command":
        done = subprocess.run(
            str(channel.command),
            shell=True,
            input=body + b"\n",  # one JSON line: a command appending it keeps valid JSONL
            cwd=cwd,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise OSError(f"exit {done.returncode}: {message[-1] if message else ''}")
        return
    target = Path(str(channel.path))
    _append(target, json.loads(body))


def deliver(channel: AlertChannel, body: bytes, cwd: Path) -> dict[str, Any]:
    """Send with retries and exponential backoff; say how it went."""
    attempts, error = 0, None
    delay = BACKOFF
    for attempt in range(channel.retries + 1):
        attempts = attempt + 1
        try:
            _attempt(channel, body, cwd)
            return {"delivered": True, "attempts": attempts}
        except (OSError, urllib.error.URLError, subprocess.SubprocessError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < channel.retries:
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
    return {"delivered": False, "attempts": attempts, "error": error}


def fire(
    loaded: LoadedSpec,
    event: str,
    summary: str,
    details: dict[str, Any],
    *,
    step: str,
    run_id: str,
    logger: logging.Logger | None = None,
    test: bool = False,
    finding: str | None = None,
) -> list[dict[str, Any]]:
    """Fire every rule for ``event`` (every rule with ``test``): log each alert, deliver it,
    log how delivery went.

    ``finding`` names what was found (a hash of the model and the statistics): a rule that
    already delivered an alert for the same finding is not sent again (the same batch checked
    again, by a rerun or by CI on a new commit, tells its owner nothing new)."""
    log = logger or logging.getLogger("mlready.alerts")
    monitoring = loaded.spec.monitoring
    store = Path(loaded.spec.project.artifacts_dir) / ALERT_LOG
    earlier = {}
    if finding is not None and not test:
        for old in read_alerts(loaded.spec.project.artifacts_dir):
            if old.get("finding") == finding and old["delivered"]:
                earlier[old.get("rule")] = old
    sent: list[dict[str, Any]] = []
    for rule in monitoring.alerts:
        if rule.when != event and not test:
            continue
        if rule.name in earlier:
            first = earlier[rule.name]
            log.info(
                "alert %s not sent again: the same finding was sent as %s on %s",
                rule.name,
                first.get("id"),
                first.get("created_at"),
            )
            sent.append(
                {
                    "rule": rule.name,
                    "event": rule.when,
                    "severity": rule.severity,
                    "id": first.get("id"),
                    "runbook": rule.runbook,
                    "action": rule.action,
                    "owner": rule.owner,
                    "deliveries": {},
                    "repeat_of": first.get("id"),
                }
            )
            continue
        text = f"TEST of alert rule '{rule.name}' ({rule.when}): no action needed" if test else ""
        message = payload(rule, loaded, text or summary, details, step=step, run_id=run_id)
        alert = message["alert"]
        alert["test"] = test
        if finding is not None:
            alert["finding"] = finding
        _append(store, {"kind": "alert", **alert})
        body = json.dumps(message, default=str).encode()
        deliveries = {}
        for name in rule.channels:
            outcome = deliver(monitoring.channels[name], body, loaded.base_dir)
            deliveries[name] = outcome
            _append(
                store, {"kind": "delivery", "alert_id": alert["id"], "channel": name, **outcome}
            )
            if outcome["delivered"]:
                log.info("alert %s sent to %s", rule.name, name)
            else:
                log.warning(
                    "alert %s NOT delivered to %s: %s (kept in %s)",
                    rule.name,
                    name,
                    outcome["error"],
                    store,
                )
        sent.append(
            {
                "rule": rule.name,
                "event": rule.when,
                "severity": rule.severity,
                "id": alert["id"],
                "runbook": rule.runbook,
                "action": rule.action,
                "owner": rule.owner,
                "deliveries": deliveries,
            }
        )
    return sent


def send_test(
    loaded: LoadedSpec, *, run_id: str, logger: logging.Logger | None = None
) -> list[dict[str, Any]]:
    """Send a test alert through every rule to each of its channels: proof that an alert
    reaches its owner before a real one has to."""
    return fire(
        loaded,
        "test",
        "test alert",
        {"test": True},
        step="alert-test",
        run_id=run_id,
        logger=logger,
        test=True,
    )


def record_test_alert(loaded: LoadedSpec) -> dict[str, Any]:
    """Send a test alert through every rule and record the deliveries as a run of step
    ``alert-test`` (the readiness report reads it); returns that run's summary with its id."""
    from mlready.errors import UsageError
    from mlready.runs import start_run

    if not loaded.spec.monitoring.alerts:
        raise UsageError(
            "monitoring.alerts has no rule to test: add rules with an owner, a runbook and "
            "channels first"
        )
    with start_run(loaded.spec.project.artifacts_dir, "alert-test", loaded) as run:
        sent = send_test(loaded, run_id=run.run_id, logger=run.logger)
        alerts = [
            {
                "rule": a["rule"],
                "event": a["event"],
                "channels": {name: d["delivered"] for name, d in a["deliveries"].items()},
            }
            for a in sent
        ]
        failed = [
            f"{a['rule']} -> {n}" for a in alerts for n, ok in a["channels"].items() if not ok
        ]
        run.summary.update(passed=not failed, alerts=alerts, undelivered=failed)
        if failed:
            run.fail(1)
    return {"run_id": run.run_id, **run.summary}


def read_alerts(artifacts_dir: Path | str) -> list[dict[str, Any]]:
    """Every alert in the log with its deliveries (``delivered`` true when one channel took it)."""
    path = Path(artifacts_dir) / ALERT_LOG
    if not path.exists():
        return []
    alerts: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or not isinstance(record.get("id", ""), str):
            continue
        if record.get("kind") == "alert" and record.get("id"):
            alerts[record["id"]] = {**record, "deliveries": {}}
        elif record.get("kind") == "delivery" and record.get("alert_id") in alerts:
            alerts[record["alert_id"]]["deliveries"][record["channel"]] = record
    out = list(alerts.values())
    for alert in out:
        alert["delivered"] = any(d.get("delivered") for d in alert["deliveries"].values())
    return out
