#!/usr/bin/env bash
# The sequence `mlready init --ci github` writes, on a copy of the sample project: check the
# spec, run the pipeline with its reports copied out, publish the Markdown summary; then run it
# again, which must skip every step.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r sample_project "$work/sample_project"
rm -rf "$work/sample_project/.mlready" "$work/sample_project/predictions"
mlready=$PWD/.venv/bin/mlready
cd "$work"
$mlready --quiet --spec sample_project/mlready.yaml spec check
$mlready --quiet --spec sample_project/mlready.yaml run --report-dir mlready-reports
cat mlready-reports/checklist.md > summary.md
grep -q "## Production readiness" summary.md
$mlready --spec sample_project/mlready.yaml run --json > again.json
python3 - <<'PY'
import json
steps = json.load(open("again.json"))["steps"]
assert {s["status"] for s in steps} == {"skipped"}, steps
PY
echo "pipeline on the sample project: ran, then skipped every unchanged step"
