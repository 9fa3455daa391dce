"""Docs stay true: the spec reference is generated from the models, every command is documented."""

from __future__ import annotations

import importlib.util
import re

import pytest

from mlready.spec.docs import BEGIN, END, iter_keys, reference_markdown
from mlready.spec.models import ProjectSpec

from .conftest import ROOT

DOCS = ROOT / "docs"


def _load_updater():
    spec = importlib.util.spec_from_file_location("update_reference", DOCS / "update_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_reference_is_up_to_date() -> None:
    page = (DOCS / "spec.md").read_text(encoding="utf-8")
    assert BEGIN in page
    assert END in page
    assert _load_updater().updated(page) == page, "docs/spec.md is stale: run `make docs`"
    assert reference_markdown() in page


def test_every_key_of_the_model_is_documented_with_a_meaning() -> None:
    page = (DOCS / "spec.md").read_text(encoding="utf-8")
    keys = list(iter_keys())
    assert len(keys) > 150
    for key, _type, _default, description in keys:
        assert f"| `{key}` |" in page
        assert description, f"{key} has no description: add one on its Field"


def test_every_section_is_in_the_sections_table() -> None:
    page = (DOCS / "spec.md").read_text(encoding="utf-8")
    for section in ProjectSpec.model_fields:
        if section == "spec_version":
            continue
        assert re.search(rf"^\| `{section}` \|", page, flags=re.MULTILINE), section


def _commands() -> list[tuple[str, object]]:
    from mlready.cli.app import app

    found = []
    for command in app.registered_commands:
        found.append((command.name, command.callback))
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            found.append((f"{group.name} {command.name}", command.callback))
    return found


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_has_help_and_a_docs_section(name: str, run_cli) -> None:
    result = run_cli(*name.split(), "--help")
    assert result.exit_code == 0
    callback = dict(_commands())[name]
    assert (callback.__doc__ or "").strip(), f"{name} has no help text"
    page = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert f"## `mlready {name}`" in page, f"docs/commands.md has no section for {name}"


def test_readme_opens_with_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert [line.strip() for line in first_block.strip().splitlines()[-2:]] == [
        "make demo",
        "make test",
    ]


def test_readiness_rubric_is_up_to_date() -> None:
    from mlready.checklist.rubric import ITEMS, rubric_markdown

    page = (DOCS / "readiness.md").read_text(encoding="utf-8")
    assert _load_updater().updated_rubric(page) == page, "docs/readiness.md is stale: make docs"
    assert rubric_markdown() in page
    for key in ITEMS:
        assert f"| `{key}` |" in page


def test_what_earns_each_point_is_generated_from_the_rubric() -> None:
    from mlready.checklist.rubric import EARNS, ITEMS, earns_markdown

    assert set(EARNS) == set(ITEMS)
    for key, earns in EARNS.items():
        assert all((earns.half, earns.full, earns.guard)), key
    page = (DOCS / "readiness.md").read_text(encoding="utf-8")
    assert "## What earns each point" in page
    assert earns_markdown() in page
    assert page.count("| `data-7` |") == 2, "in the rubric and in the points table"


def test_command_reference_is_generated_from_the_cli() -> None:
    from mlready.cli.reference import reference_markdown

    page = (DOCS / "reference.md").read_text(encoding="utf-8")
    assert _load_updater().updated_commands(page) == page, "docs/reference.md is stale: make docs"
    for name, _ in _commands():
        assert f"### `mlready {name}`" in page, name
    assert reference_markdown() in page
