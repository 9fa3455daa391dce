"""The key-by-key reference of mlready.yaml, generated from the models (docs/spec.md embeds it)."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mlready.spec.models import ProjectSpec, format_duration

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m mlready.spec.docs -->"
END = "<!-- END GENERATED REFERENCE -->"
_PLACEHOLDERS = {
    "columns": "<column>",
    "features": "<column>",
    "channels": "<channel>",
    "space": "<param>",
    "thresholds": "<metric>",
    "severities": "<check>",
}


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _type_name(annotation: Any) -> str:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(parts)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "boolean",
        dt.date: "date",
        dt.timedelta: "duration",
    }
    if annotation is typing.Any:
        return "any"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _nested_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """('', M) for M or M | None, ('[]', M) for list[M], ('.<x>', M) for dict[str, M]."""
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", annotation
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _nested_model(arg)
            if found is not None:
                return found
    if origin is list:
        inner = _nested_model(typing.get_args(annotation)[0])
        return ("[]" + inner[0], inner[1]) if inner else None
    if origin is dict:
        inner = _nested_model(typing.get_args(annotation)[1])
        return (".{}" + inner[0], inner[1]) if inner else None
    return None


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        return f"`{value}`" if value not in ([], {}) else "empty"
    value = field.default
    if value is PydanticUndefined or value is None:
        return ""
    if isinstance(value, dt.timedelta):
        return f"`{format_duration(value)}`"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def iter_keys(
    model: type[BaseModel] = ProjectSpec, prefix: str = ""
) -> Iterator[tuple[str, str, str, str]]:
    """(dotted key, type, default, description) for every key of the spec, depth first."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        description = (field.description or "").replace("|", "\\|")
        nested = _nested_model(field.annotation)
        if nested is not None and not description:
            description = (nested[1].__doc__ or "").strip().splitlines()[0]
        yield key, _type_name(field.annotation), _default(field), description
        if nested is not None:
            suffix, sub = nested
            suffix = suffix.replace("{}", _PLACEHOLDERS.get(name, "<name>"))
            yield from iter_keys(sub, f"{key}{suffix}.")


def reference_markdown() -> str:
    """The generated reference table, between its BEGIN/END markers."""
    lines = [BEGIN, "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for key, type_name, default, description in iter_keys():
        lines.append(f"| `{key}` | {type_name} | {default} | {description} |")
    lines += ["", END]
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown())
