#!/usr/bin/env bash
# The sequence `mlready init --ci github` writes, on a copy of the sample project: check the
# spec, run the pipeline with its reports copied out, publish the Markdown summary; then run it
# again, which must skip every step. The copy is committed to a git repository of its own, as a
# project's CI checks it out, and the runs record CI provenance (CI=true, as every CI sets it).
set -euo pipefail
export CI="${CI:-true}"
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r sample_project "$work/sample_project"
rm -rf "$work/sample_project/.mlready" "$work/sample_project/predictions"
mlready=$PWD/.venv/bin/mlready
cd "$work"
git init -q
git -c user.name=ci -c user.email=ci@localhost add sample_project
git -c user.name=ci -c user.email=ci@localhost commit -qm "the sample project"
$mlready --quiet --spec sample_project/mlready.yaml spec check
$mlready --quiet --spec sample_project/mlready.yaml run --report-dir mlready-reports
cat mlready-reports/checklist.md > summary.md
grep -q "## Production readiness" summary.md
$mlready --spec sample_project/mlready.yaml run --json > again.json
python3 - <<'PY'
import json
steps = json.load(open("again.json"))["steps"]
# the sample project sets no checklist.test_command: its test step is "not configured"
assert {s["status"] for s in steps if s["step"] != "test"} == {"skipped"}, steps
assert [s["status"] for s in steps if s["step"] == "test"] == ["not configured"], steps
report = json.load(open("mlready-reports/checklist.json"))
sources = [s for item in report["items"] for s in item["sources"]]
assert sources and all(s["ci"] for s in sources), "every point comes from a CI record"
assert not report["log"]["altered"], report["log"]
assert next(i for i in report["items"] if i["id"] == "data-1")["needs_ci"], "one commit: not repeated"
print(f"readiness: {report['final_score']:.2f} passing now, {report['in_place_score']:.2f} in place")
PY
$mlready --spec sample_project/mlready.yaml runs verify
echo "pipeline on the sample project: ran, then skipped every unchanged step"
