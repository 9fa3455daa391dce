"""The run history as a person browses it: every run with its headline, and two runs compared.

table = list_runs(artifacts_dir, step="train", last=5)   # newest last
record = find_run(artifacts_dir, "train~1")              # the train run before the newest
comparison = compare_runs(artifacts_dir, "train~1", "train")
comparison.same, comparison.differences, comparison.to_dict(), comparison.to_html()
"""

from mlready.history.compare import (
    Change,
    RunComparison,
    change_text,
    compare_runs,
    diff_values,
    shown,
    training_sections,
)
from mlready.history.listing import (
    REPORT_FILES,
    RunEntry,
    RunTable,
    entry_of,
    find_run,
    headline,
    list_runs,
)

__all__ = [
    "REPORT_FILES",
    "Change",
    "RunComparison",
    "RunEntry",
    "RunTable",
    "change_text",
    "compare_runs",
    "diff_values",
    "entry_of",
    "find_run",
    "headline",
    "list_runs",
    "shown",
    "training_sections",
]
