"""The command reference (docs/reference.md), generated from the CLI's own definitions: each
command's usage, description and options, exactly as `--help` states them, without the terminal
formatting (so it does not depend on the terminal's width or colours)."""

from __future__ import annotations

from typing import Any

__all__ = ["BEGIN", "END", "reference_markdown"]

BEGIN = "<!-- BEGIN GENERATED COMMAND REFERENCE: make docs -->"
END = "<!-- END GENERATED COMMAND REFERENCE -->"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("\\[", "[")


def _options(command: Any, ctx: Any) -> list[str]:
    lines = ["| option | type | default | what it does |", "|---|---|---|---|"]
    for param in command.params:
        if param.name == "help":
            continue
        if param.param_type_name == "argument":
            name = f"`{param.name.upper()}` (argument)"
        else:
            name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        flag = getattr(param, "is_flag", False)
        kind = "flag" if flag else param.display_type(ctx).strip("<>").replace("|", ", ")
        default = param.default
        value = getattr(default, "value", default)
        shown = (
            ""
            if value in (None, False) or not getattr(param, "show_default", True)
            else f"`{value}`"
        )
        lines.append(f"| {name} | {kind} | {shown} | {_cell(getattr(param, 'help', '') or '')} |")
    return lines


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    for name in sorted(getattr(command, "commands", {}) or {}):
        found += _walk(command.commands[name], [*path, name])
    return found


def reference_markdown() -> str:
    """Every command and sub-command, with its options, as Markdown."""
    import typer.main
    from typer._click.core import Context

    from mlready.cli.app import app

    root = typer.main.get_command(app)
    out = [BEGIN]
    for path, command in _walk(root, ["mlready"]):
        name = " ".join(path)
        out += ["", f"### `{name}`", ""]
        ctx = Context(command, info_name=name)
        usage = " ".join(command.collect_usage_pieces(ctx))
        out += ["```text", f"{name} {usage}".rstrip(), "```", ""]
        description = (command.help or "").strip()
        if description:
            out += [" ".join(description.split()).replace("\\[", "["), ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            out += _options(command, ctx)
    out += ["", END]
    return "\n".join(out)
