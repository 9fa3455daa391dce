"""Replacing one top-level section of a spec's text keeps every other line as written."""

from __future__ import annotations

import textwrap

from mlready.spec.sections import replace_section

SPEC = textwrap.dedent(
    """\
    # my project
    spec_version: 1
    data:
      source: {path: data/train.csv}   # the export of Monday
    # the contract, reviewed with Ana
    expectations:                       # see the docs
      columns:
        a: {min: 0}
        # b was dropped
        b: {type: string}
    # the model comes next
    model:
      estimator: x
    """
)
BLOCK = "expectations:\n  columns:\n    a: {min: 1}\n"


def test_the_section_is_replaced_and_nothing_else_changes() -> None:
    new = replace_section(SPEC, "expectations", BLOCK)
    before, after = SPEC.split("expectations:")[0], SPEC.split("# the model comes next")[1]
    assert new == before + BLOCK + "# the model comes next" + after
    assert "b was dropped" not in new  # a comment inside the section goes with it


def test_a_header_an_earlier_write_left_is_replaced_but_not_a_users_comment() -> None:
    headed = SPEC.replace("# the contract, reviewed with Ana\n", "# Inferred by x\n# review\n")
    new = replace_section(headed, "expectations", "# Inferred by y\n" + BLOCK, header="# Inferred")
    assert new.count("# Inferred by") == 1
    assert "# Inferred by y" in new
    kept = replace_section(SPEC, "expectations", BLOCK, header="# Inferred")
    assert "# the contract, reviewed with Ana\nexpectations:" in kept


def test_a_missing_section_is_appended_and_a_last_one_replaced() -> None:
    bare = "spec_version: 1\nmodel:\n  estimator: x\n"
    assert replace_section(bare, "expectations", BLOCK) == bare + "\n" + BLOCK
    last = bare + "expectations: {columns: {}}\n"
    assert replace_section(last, "expectations", BLOCK) == bare + BLOCK
    assert replace_section(bare, "model", "model: {}") == "spec_version: 1\nmodel: {}\n"
