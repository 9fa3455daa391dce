"""Alert delivery: what each channel receives."""

from __future__ import annotations

import json
from pathlib import Path

from mlready.alerts import fire
from mlready.spec import load_spec
from tests.training_data import write_project


def test_a_command_channel_appending_alerts_keeps_valid_jsonl(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        extra="""\
        monitoring:
          channels:
            sink: {type: command, command: "cat >> received.jsonl", retries: 0}
          alerts:
            - {name: drift, when: dataset_drift, severity: warning, owner: me,
               runbook: look, channels: [sink]}
        """,
    )
    loaded = load_spec(tmp_path)
    for run in ("r1", "r2"):
        sent = fire(loaded, "dataset_drift", "drift", {}, step="check-drift", run_id=run)
        assert sent[0]["deliveries"]["sink"]["delivered"]
    lines = (tmp_path / "received.jsonl").read_text().splitlines()
    assert [json.loads(line)["alert"]["run_id"] for line in lines] == ["r1", "r2"]
