"""The parameters a scikit-learn estimator class takes, read from its source without importing it.

Importing scikit-learn costs about a second (it imports scipy and pandas), and `mlready spec
check` only needs to know that the class exists, has a ``fit`` method and which parameters its
constructor takes. For a class that follows scikit-learn's estimator contract (its
``get_params`` is ``BaseEstimator``'s, which lists the parameters of ``__init__``) the source
answers that exactly: the module files are found on the import path and parsed with ``ast``,
imports are followed, and the method resolution order is computed as Python would.

Anything the source cannot settle for certain (a name bound conditionally or twice, a base class
outside scikit-learn, a decorated class or constructor, a custom ``get_params``, a compiled
module) answers None, and the caller imports the class as before; so does every error, which
keeps the messages (and their "did you mean") those of the import.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
from dataclasses import dataclass
from pathlib import Path

#: Packages whose estimators are read from source (their get_params is BaseEstimator's).
SOURCE_PACKAGES = frozenset({"sklearn"})
#: How many imports and base classes are followed before giving up.
MAX_STEPS = 200
_BASE_ESTIMATOR = ("sklearn.base", "BaseEstimator")
#: Names a class body must bind unconditionally (once) if it binds them at all.
_WATCHED = frozenset(
    {"fit", "__init__", "get_params", "_get_param_names", "__new__", "__signature__"}
)


#: try statements (``try/except*`` is Python 3.11+).
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))


class _Unsure(Exception):
    """The source does not settle the question: import the class instead."""


@dataclass(frozen=True)
class _Module:
    name: str
    is_package: bool
    tree: ast.Module


@dataclass(frozen=True)
class _Class:
    module: str
    node: ast.ClassDef

    @property
    def key(self) -> tuple[str, str]:
        return (self.module, self.node.name)


#: abc.ABC (a frozen module, so without source here) adds no method an estimator check reads.
_ABC = _Class("abc", ast.ClassDef(name="ABC", bases=[], keywords=[], body=[], decorator_list=[]))


def source_parameters(import_path: str) -> tuple[str, frozenset[str]] | None:
    """(class name, the names ``get_params(deep=False)`` returns) for ``package.module.Class``,
    read from source; None when the class is not in SOURCE_PACKAGES or the source does not
    settle it."""
    module_name, _, class_name = import_path.rpartition(".")
    if not module_name or module_name.split(".")[0] not in SOURCE_PACKAGES:
        return None
    reader = _Reader()
    try:
        found = reader.resolve(module_name, class_name)
        if not isinstance(found, _Class):
            return None
        return found.node.name, reader.parameters(found)
    except (_Unsure, OSError, SyntaxError, ValueError, ImportError, RecursionError):
        return None


class _Reader:
    """Modules found and parsed once per question (nothing is kept between questions)."""

    def __init__(self) -> None:
        self.steps = 0
        self.specs: dict[str, importlib.machinery.ModuleSpec | None] = {}
        self.modules: dict[str, _Module] = {}
        self.bindings: dict[str, dict[str, ast.stmt | None]] = {}

    def parameters(self, cls: _Class) -> frozenset[str]:
        """What BaseEstimator.get_params(deep=False) would list for ``cls``."""
        bound: dict[str, _Class] = {}
        for klass in self.mro(cls, ()):
            if klass.node.decorator_list:
                raise _Unsure
            for name, value in _class_bindings(klass.node).items():
                if value is None:
                    raise _Unsure  # bound twice or under a condition
                bound.setdefault(name, klass)
        if "fit" not in bound or "__new__" in bound or "__signature__" in bound:
            raise _Unsure
        for name in ("get_params", "_get_param_names"):
            if name not in bound or bound[name].key != _BASE_ESTIMATOR:
                raise _Unsure
        if "__init__" not in bound:
            return frozenset()  # object.__init__: no parameter
        init = _class_bindings(bound["__init__"].node)["__init__"]
        if not isinstance(init, ast.FunctionDef) or init.decorator_list:
            raise _Unsure
        args = init.args
        positional = [*args.posonlyargs, *args.args]
        if args.vararg is not None or not positional or positional[0].arg != "self":
            raise _Unsure
        return frozenset(a.arg for a in [*positional[1:], *args.kwonlyargs])

    def mro(self, cls: _Class, seen: tuple[tuple[str, str], ...]) -> list[_Class]:
        """The C3 linearisation of ``cls`` (without ``object``), as Python computes __mro__."""
        if cls.key in seen:
            raise _Unsure
        if cls.node.keywords and not self.only_abc_metaclass(cls):
            raise _Unsure
        bases = [b for b in (self.base(cls, e) for e in cls.node.bases) if b is not None]
        sequences = [self.mro(b, (*seen, cls.key)) for b in bases] + [list(bases)]
        out = [cls]
        while any(sequences):
            for sequence in sequences:
                if sequence and not any(
                    sequence[0].key in [c.key for c in s[1:]] for s in sequences
                ):
                    head = sequence[0]
                    break
            else:
                raise _Unsure  # Python would refuse this hierarchy
            out.append(head)
            sequences = [s[1:] if s and s[0].key == head.key else s for s in sequences]
        return out

    def only_abc_metaclass(self, cls: _Class) -> bool:
        """``metaclass=ABCMeta`` (imported from abc) is the one class keyword allowed."""
        keywords = cls.node.keywords
        if len(keywords) != 1 or keywords[0].arg != "metaclass":
            return False
        value = keywords[0].value
        if not isinstance(value, ast.Name):
            return False
        binding = self.module_bindings(cls.module).get(value.id)
        return (
            isinstance(binding, ast.ImportFrom)
            and binding.module == "abc"
            and binding.level == 0
            and any(a.name == "ABCMeta" and (a.asname or a.name) == value.id for a in binding.names)
        )

    def base(self, cls: _Class, expression: ast.expr) -> _Class | None:
        """The class a base-class expression names (None for ``object``)."""
        if isinstance(expression, ast.Name):
            if expression.id == "object" and expression.id not in self.module_bindings(cls.module):
                return None
            found = self.resolve(cls.module, expression.id)
        elif isinstance(expression, ast.Attribute) and isinstance(expression.value, ast.Name):
            module = self.resolve(cls.module, expression.value.id)
            if not isinstance(module, str):
                raise _Unsure
            found = self.resolve(module, expression.attr)
        else:
            raise _Unsure  # Generic[T], a call, ...
        if not isinstance(found, _Class):
            raise _Unsure
        return found

    def resolve(self, module_name: str, name: str) -> _Class | str:
        """What ``name`` is in ``module_name``: a class, or a module (by its dotted name)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Unsure
        if (module_name, name) == ("abc", "ABC"):
            return _ABC
        if module_name.split(".")[0] not in SOURCE_PACKAGES:
            raise _Unsure
        bindings = self.module_bindings(module_name)
        if name not in bindings:
            submodule = f"{module_name}.{name}"
            if self.load(module_name).is_package and self.find(submodule) is not None:
                return submodule
            raise _Unsure
        node = bindings[name]
        if isinstance(node, ast.ClassDef):
            return _Class(module_name, node)
        if isinstance(node, ast.ImportFrom):
            alias = next(a for a in node.names if (a.asname or a.name) == name)
            return self.resolve(self.absolute(module_name, node), alias.name)
        if isinstance(node, ast.Import):
            alias = next(a for a in node.names if (a.asname or a.name.split(".")[0]) == name)
            return alias.name if alias.asname else alias.name.split(".")[0]
        raise _Unsure  # bound twice or conditionally, an assignment, a function, ...

    def absolute(self, module_name: str, node: ast.ImportFrom) -> str:
        """The module a ``from ... import`` in ``module_name`` reads from."""
        if not node.level:
            return node.module or ""
        package = module_name
        if not self.load(module_name).is_package:
            package = module_name.rpartition(".")[0]
        parts = package.split(".")
        if node.level - 1 >= len(parts):
            raise _Unsure
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    def find(self, module_name: str) -> importlib.machinery.ModuleSpec | None:
        """The module's spec, found on the import path without importing it or its packages."""
        if module_name not in self.specs:
            parent = module_name.rpartition(".")[0]
            if not parent:
                spec = importlib.util.find_spec(module_name)
            else:
                outer = self.find(parent)
                locations = None if outer is None else outer.submodule_search_locations
                spec = (
                    None
                    if locations is None
                    else importlib.machinery.PathFinder.find_spec(module_name, list(locations))
                )
            self.specs[module_name] = spec
        return self.specs[module_name]

    def load(self, module_name: str) -> _Module:
        if module_name not in self.modules:
            spec = self.find(module_name)
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                raise _Unsure  # not found, compiled, or a namespace package
            tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
            self.modules[module_name] = _Module(
                module_name, spec.submodule_search_locations is not None, tree
            )
        return self.modules[module_name]

    def module_bindings(self, module_name: str) -> dict[str, ast.stmt | None]:
        """Each name the module binds, with the statement that binds it; None for a name bound
        more than once or under a condition (if, try, with, loops)."""
        if module_name not in self.bindings:
            out: dict[str, ast.stmt | None] = {}
            _bind_all(self.load(module_name).tree.body, out, conditional=False)
            self.bindings[module_name] = out
        return self.bindings[module_name]


def _class_bindings(node: ast.ClassDef) -> dict[str, ast.stmt | None]:
    """The watched names a class body binds (None: bound twice or conditionally)."""
    out: dict[str, ast.stmt | None] = {}
    _bind_all(node.body, out, conditional=False)
    return {name: value for name, value in out.items() if name in _WATCHED}


def _bind_all(body: list[ast.stmt], out: dict[str, ast.stmt | None], *, conditional: bool) -> None:
    for statement in body:
        for name in _bound_names(statement):
            out[name] = None if (conditional or name in out) else statement
        for name in _header_names(statement):
            out[name] = None
        for block in _blocks(statement):
            _bind_all(block, out, conditional=True)


def _bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [statement.name]
    if isinstance(statement, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in statement.names]
    if isinstance(statement, ast.ImportFrom):
        if any(a.name == "*" for a in statement.names):
            raise _Unsure  # a star import can bind any name
        return [a.asname or a.name for a in statement.names]
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    elif isinstance(statement, ast.Delete):
        targets = statement.targets
    elif isinstance(statement, ast.Global | ast.Nonlocal):
        return list(statement.names)
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _header_names(statement: ast.stmt) -> list[str]:
    """Names a compound statement's header binds: loop targets, ``with/except ... as``."""
    targets: list[ast.expr] = []
    if isinstance(statement, ast.For | ast.AsyncFor):
        targets = [statement.target]
    elif isinstance(statement, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in statement.items if i.optional_vars is not None]
    elif isinstance(statement, _TRY):
        return [h.name for h in statement.handlers if h.name]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The nested statement lists of a compound statement that still bind in this scope."""
    if isinstance(statement, ast.If | ast.For | ast.AsyncFor | ast.While):
        return [statement.body, statement.orelse]
    if isinstance(statement, ast.With | ast.AsyncWith):
        return [statement.body]
    if isinstance(statement, _TRY):
        return [
            statement.body,
            statement.orelse,
            statement.finalbody,
            *(h.body for h in statement.handlers),
        ]
    if isinstance(statement, ast.Match):
        return [case.body for case in statement.cases]
    return []
