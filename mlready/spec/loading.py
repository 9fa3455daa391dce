"""Reading ``mlready.yaml``: safe YAML, line numbers, one readable SpecError for all problems."""

from __future__ import annotations

import difflib
import glob
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mlready.errors import SpecError
from mlready.spec.models import ProjectSpec

DEFAULT_SPEC_NAME = "mlready.yaml"
MAX_SPEC_BYTES = 1_000_000
#: Values a spec may expand to once aliases are followed; a real spec has a few hundred.
MAX_SPEC_NODES = 20_000
MAX_PROBLEMS_SHOWN = 10
#: Levels of nested mappings and lists; a real spec has five or six. Deeper YAML would exhaust
#: the parser's recursion (a RecursionError) before any check could name the problem.
MAX_SPEC_DEPTH = 50


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans, so Yes/No/on stay text."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _ParsingLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The spec's loader with libyaml's scanner and parser where PyYAML has them (the same
    tokens and nodes, about 4x faster than the pure-Python ones: every command loads the spec);
    values are still constructed by _SpecLoader."""


_ParsingLoader.yaml_implicit_resolvers = _SpecLoader.yaml_implicit_resolvers


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from and a hash per section (for caching steps)."""

    spec: ProjectSpec
    path: Path
    raw: dict[str, Any]

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the spec are resolved against."""
        return self.path.parent

    def section_hash(self, *sections: str) -> str:
        """sha256 of the named sections as written (canonical JSON), to tell when they change."""
        chosen = {name: self.raw.get(name) for name in sorted(sections)}
        text = json.dumps(chosen, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def protected_paths(self) -> list[Path]:
        """The spec file and every data file it names as a source: never an output's path."""
        from mlready.spec.models import DataSource

        found: list[Path] = [self.path]

        def walk(node: Any) -> None:
            if isinstance(node, DataSource) and node.path:
                files = glob.glob(node.path) if glob.has_magic(node.path) else [node.path]
                found.extend(Path(f) for f in files)
            elif isinstance(node, BaseModel):
                for name in type(node).model_fields:
                    walk(getattr(node, name))
            elif isinstance(node, list | tuple):
                for item in node:
                    walk(item)
            elif isinstance(node, dict):
                for item in node.values():
                    walk(item)

        walk(self.spec)
        return found

    @property
    def spec_hash(self) -> str:
        """sha256 of the whole spec's content."""
        return self.section_hash(*self.raw)

    def allowing_pickle(self) -> LoadedSpec:
        """This spec with ``model.allow_pickle: true``: a command's --allow-pickle."""
        model = self.spec.model.model_copy(update={"allow_pickle": True})
        return replace(self, spec=self.spec.model_copy(update={"model": model}))


def find_spec_path(path: Path | str | None) -> Path:
    """The spec file named by --spec: a file, or a folder holding mlready.yaml."""
    candidate = Path(path) if path is not None else Path(DEFAULT_SPEC_NAME)
    if candidate.is_dir():
        candidate = candidate / DEFAULT_SPEC_NAME
    if not candidate.exists():
        raise SpecError(
            f"no project spec at {candidate}",
            hint="run `mlready init` to create one, or pass --spec PATH/TO/mlready.yaml",
        )
    if not candidate.is_file():
        raise SpecError(f"{candidate} is not a file: pass --spec PATH/TO/mlready.yaml")
    return candidate


def load_spec(path: Path | str | None = None, *, check_files: bool = False) -> LoadedSpec:
    """Read, parse and validate a project spec; raise one SpecError naming every problem.

    ``check_files`` also checks that the files the spec names exist (``mlready spec check``).
    """
    spec_path = find_spec_path(path)
    return parse_spec(_read_text(spec_path), spec_path, check_files=check_files)


def parse_spec(text: str, spec_path: Path, *, check_files: bool = False) -> LoadedSpec:
    """Parse and validate the text of a spec as if it were the file ``spec_path`` (its paths
    resolve against that file's folder; its errors name that file); SpecError if invalid."""
    node = _compose(text, spec_path)
    try:
        data = _construct(node)
    except yaml.YAMLError as exc:  # e.g. a !!python/object tag: safe loading refuses it
        raise _yaml_error(exc, spec_path) from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise SpecError(
            f"{spec_path.name}:1 the spec must be a mapping of sections (spec_version, project, "
            f"data, model, ...), got {kind}",
            hint="run `mlready init` in an empty folder to see a starter spec",
        )
    context = {"base_dir": spec_path.resolve().parent, "check_files": check_files}
    try:
        spec = ProjectSpec.model_validate(data, context=context)
    except ValidationError as exc:
        raise SpecError(_format_errors(exc, node, spec_path)) from None
    if check_files:
        _check_columns(spec, node, spec_path)
        _check_estimators(spec, node, spec_path)
    return LoadedSpec(spec=spec, path=spec_path.resolve(), raw=data)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(
                f"{path} is {size:,} bytes; a project spec is a small YAML file "
                f"(at most {MAX_SPEC_BYTES:,} bytes): is --spec pointing at a data file?"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}") from None
    if b"\x00" in raw:
        raise SpecError(f"{path} is a binary file, not YAML: pass --spec PATH/TO/mlready.yaml")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path} is not UTF-8 text (invalid byte at offset {exc.start}): is it a binary "
            "file? A spec is a YAML file saved as UTF-8"
        ) from None
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise SpecError(
            f"{path} is empty", hint="run `mlready init` to write a commented starter spec"
        )
    return text


def _check_depth(text: str, path: Path) -> None:
    """Refuse YAML nested deeper than MAX_SPEC_DEPTH, read token by token (no recursion)."""
    opening = (
        yaml.BlockMappingStartToken,
        yaml.BlockSequenceStartToken,
        yaml.FlowMappingStartToken,
        yaml.FlowSequenceStartToken,
    )
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_ParsingLoader):
            if isinstance(token, opening):
                depth += 1
                if depth > MAX_SPEC_DEPTH:
                    raise SpecError(
                        f"{path.name}:{token.start_mark.line + 1} the YAML is nested more than "
                        f"{MAX_SPEC_DEPTH} levels deep: a spec needs a few; remove the extra "
                        "brackets or indentation"
                    )
            elif isinstance(token, closing):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from None


def _compose(text: str, path: Path) -> yaml.Node:
    _check_depth(text, path)
    try:
        node = yaml.compose(text, Loader=_ParsingLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from None
    if node is None:
        raise SpecError(f"{path} is empty", hint="run `mlready init` to write a starter spec")
    _refuse_duplicate_keys(node, path, set())
    size = _expanded_size(node, {})
    if size > MAX_SPEC_NODES:
        raise SpecError(
            f"{path.name}: its YAML aliases expand to more than {MAX_SPEC_NODES:,} values "
            "(an alias bomb?); write the values out or use fewer aliases"
        )
    return node


def _construct(node: yaml.Node) -> Any:
    """The Python values of a composed document: what ``yaml.load`` returns for its text,
    without parsing the text a second time."""
    loader = _SpecLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, path: Path) -> SpecError:
    mark = getattr(exc, "problem_mark", None)
    where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{context}, {problem}" if context else problem
    if "constructor" in problem and "tag" in problem:
        return SpecError(
            f"{where} is not plain YAML: {detail}",
            hint="a spec holds only plain values (text, numbers, lists, mappings): remove the tag",
        )
    return SpecError(
        f"{where} is not valid YAML: {detail}",
        hint="check the indentation and quoting near that line",
    )


def _refuse_duplicate_keys(node: yaml.Node, path: Path, seen: set[int]) -> None:
    """YAML keeps the last of two equal keys without a word; a spec with one is a mistake."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key in keys:
                raise SpecError(
                    f"{path.name}:{line} key '{key}' appears twice in one section (first on line "
                    f"{keys[key]}): keep one"
                )
            keys[key] = line
            _refuse_duplicate_keys(value_node, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, path, seen)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of values once every alias is expanded (computed on the shared graph, so fast)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = MAX_SPEC_NODES + 1  # a cycle counts as too big
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_size(item, memo) for item in node.value)
    else:
        total = 1
    memo[key] = min(total, MAX_SPEC_NODES + 1)
    return memo[key]


# --------------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------------


def _locate(node: yaml.Node, loc: Sequence[int | str]) -> tuple[list[str | int], int]:
    """Follow a pydantic error location through the YAML tree.

    Returns the part of the path that exists in the YAML and the line of the deepest key reached.
    """
    path: list[str | int] = []
    current = node
    line = node.start_mark.line + 1
    for segment in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if str(key_node.value) == str(segment):
                    child = value_node
                    line = key_node.start_mark.line + 1  # the key's line reads best
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(segment, int)
            and 0 <= segment < len(current.value)
        ):
            child = current.value[segment]
            line = child.start_mark.line + 1
        if child is None:
            # union tags (str, int, function-after[...]) are not in the YAML: skip them
            continue
        path.append(segment)
        current = child
    return path, line


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += ("." if out else "") + str(segment)
    return out or "(top level)"


def _allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys a section accepts, found by walking the model along the error location."""
    current: Any = model
    for segment in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(segment))
            if field is None:
                continue
            current = _unwrap_model(field.annotation)
        else:
            current = _unwrap_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap_model(annotation: Any) -> Any:
    """Find a BaseModel inside Optional[...], list[...], dict[..., ...] or Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None and meta is not annotation:
        return _unwrap_model(meta)
    return None


def _describe(error: Any) -> str:
    kind = error["type"]
    message = str(error["msg"])
    value = error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    message = re.sub(r"^Value error, ", "", message)
    message = re.sub(r"^Assertion failed, ", "", message)
    message = re.sub(r"^Input should be ", "must be ", message)
    message = re.sub(r"^String should ", "must ", message)
    message = re.sub(r"^List should ", "must ", message)
    message = re.sub(r"^Dictionary should ", "must ", message)
    message = re.sub(r"^Value should ", "must ", message)
    if kind.startswith(("value_error", "assertion_error")):
        return message
    if isinstance(value, str | int | float | bool) or value is None:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        message += f", got {shown}"
    elif isinstance(value, dict):
        message += ", got a mapping"
    elif isinstance(value, list):
        message += ", got a list"
    return message


def _format_errors(exc: ValidationError, node: yaml.Node, spec_path: Path) -> str:
    lines: list[str] = []
    seen: dict[tuple[int, str], int] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        path, line = _locate(node, loc)
        kind = error["type"]
        description = _describe(error)
        if kind in ("missing", "extra_forbidden"):
            key = loc[-1]
            parent = loc[:-1]
            path = [*path, key] if (not path or path[-1] != key) else path
            allowed = _allowed_keys(ProjectSpec, parent)
            if kind == "extra_forbidden" and allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                description = f"unknown key '{key}'"
                if close:
                    description += f"; did you mean '{close[0]}'?"
                description += f" Allowed here: {', '.join(allowed)}"
            elif kind == "missing":
                description = f"required key '{key}' is missing"
        text = f"{spec_path.name}:{line} {_dotted(path)}: {description}"
        dedupe_key = (line, _dotted(path))
        if dedupe_key in seen:
            # a union reports one error per alternative: keep them on one line
            index = seen[dedupe_key]
            if description not in lines[index]:
                lines[index] += f"; or {description}"
            continue
        seen[dedupe_key] = len(lines)
        lines.append(text)
    shown = lines[:MAX_PROBLEMS_SHOWN]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        shown.append(f"... and {len(lines) - MAX_PROBLEMS_SHOWN} more")
    if len(lines) == 1:
        return shown[0] + " (every key: `mlready spec schema`)"
    header = f"{spec_path.name} has {len(lines)} problems (every key: `mlready spec schema`):"
    return "\n".join([header, *("  " + line for line in shown)])


# --------------------------------------------------------------------------------------------------
# Deeper checks for `mlready spec check`
# --------------------------------------------------------------------------------------------------


def _named_columns(spec: ProjectSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every place the spec names a column of the training data, with its location."""
    data = spec.data
    yield ("data", "target"), data.target
    for i, column in enumerate(data.id_columns):
        yield ("data", "id_columns", i), column
    if data.timestamp_column:
        yield ("data", "timestamp_column"), data.timestamp_column
    for kind in ("numeric", "categorical"):
        for i, column in enumerate(getattr(data.features, kind) or ()):
            yield ("data", "features", kind, i), column
    for i, item in enumerate(spec.validation.slices):
        yield ("validation", "slices", i, "column"), item.column
    if spec.validation.cv.group_column:
        yield ("validation", "cv", "group_column"), spec.validation.cv.group_column
    if spec.business is not None:
        for outcome in ("true_positive", "false_positive", "true_negative", "false_negative"):
            column = getattr(spec.business, outcome).column
            if column:
                yield ("business", outcome, "column"), column


def _check_columns(spec: ProjectSpec, node: yaml.Node, spec_path: Path) -> None:
    """The columns the spec names must be in the training data's header (files only, not SQL)."""
    import glob

    from mlready.io import table_columns

    if spec.data.source.path is None:
        return
    files = sorted(glob.glob(spec.data.source.path))
    if not files:
        return
    columns = table_columns(files[0])
    available = set(columns)
    problems = []
    for loc, column in _named_columns(spec):
        if column not in available:
            path, line = _locate(node, loc)
            close = difflib.get_close_matches(column, columns, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                f"{spec_path.name}:{line} {_dotted(path)}: column '{column}' is not in "
                f"{Path(files[0]).name}{hint} Its columns: {', '.join(columns)}"
            )
    if problems:
        raise SpecError("\n".join(problems[:MAX_PROBLEMS_SHOWN]))


def _estimators(spec: ProjectSpec) -> Iterator[tuple[tuple[str | int, ...], str, dict[str, Any]]]:
    model = spec.model
    if model.estimator is not None:
        yield ("model", "estimator"), model.estimator, model.params
    if model.ensemble is not None:
        for i, member in enumerate(model.ensemble.members):
            yield ("model", "ensemble", "members", i, "estimator"), member.estimator, member.params
        final = model.ensemble.final_estimator
        if final is not None:
            yield (
                ("model", "ensemble", "final_estimator", "estimator"),
                final.estimator,
                (final.params),
            )


def _check_estimators(spec: ProjectSpec, node: yaml.Node, spec_path: Path) -> None:
    """Check that each estimator exists and takes the params the spec gives it (scikit-learn's
    read from source: spec check need not import scikit-learn)."""
    from mlready.spec.estimators import EstimatorProblem, check_estimator

    problems = []
    for loc, import_path, params in _estimators(spec):
        try:
            check_estimator(import_path, params, read_source=True)
        except EstimatorProblem as exc:
            path, line = _locate(node, loc)
            problems.append(f"{spec_path.name}:{line} {_dotted(path)}: {exc}")
    if problems:
        raise SpecError("\n".join(problems))
