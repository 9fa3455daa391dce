"""Import a library without paying for the parts of it mlready never calls.

Great Expectations imports, at its own import, modules that only some of its expectations and
data sources use: altair and scipy.stats (for the KL-divergence expectation's charts and
statistics) and SQLAlchemy (for SQL data sources; GX runs without it, and mlready gives GX only
pandas frames). Together they are about 2 of GX's 3.3 CPU-seconds of import, paid by every
validate-data and by train's contract check. :func:`deferred_imports` imports such modules
*lazily* (the module object exists at once; its code runs on first use of one of its
attributes, so nothing is lost if it is used after all) or as *absent* (the ImportError an
optional dependency that is not installed gives, which the library handles).

The lazy module is the standard library's ``importlib.util.LazyLoader`` design with the lock
that Python 3.12.3 added (gh-114763): on 3.11 two threads touching a lazy module at once could
see it half-loaded.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["deferred_imports", "is_deferred"]


class _LazyModule(types.ModuleType):
    """A module whose code runs on the first access to one of its attributes."""

    def __getattribute__(self, attr: str) -> Any:
        spec = object.__getattribute__(self, "__spec__")
        state = spec.loader_state
        with state["lock"]:
            # the first thread to take the lock loads; the others find the plain class after
            if object.__getattribute__(self, "__class__") is _LazyModule:
                cls = state["__class__"]
                if state["is_loading"]:  # re-entered by the module's own code while it runs
                    return cls.__getattribute__(self, attr)
                state["is_loading"] = True
                now = cls.__getattribute__(self, "__dict__")
                then = state["__dict__"]
                # what was set on the module since it was created (by the import system,
                # say, setting a submodule) must survive the load, as in an eager import
                updated = {
                    key: value
                    for key, value in now.items()
                    if key not in then or then[key] is not value
                }
                name = spec.name
                spec.loader.exec_module(self)
                if name in sys.modules and sys.modules[name] is not self:
                    raise ValueError(f"module {name!r} was replaced in sys.modules while it loaded")
                now.update(updated)
                if isinstance(self, _LazyModule):
                    object.__setattr__(self, "__class__", cls)
        return getattr(self, attr)

    def __delattr__(self, attr: str) -> None:
        self.__getattribute__(attr)  # load (and fail as an eager module would)
        delattr(self, attr)


class _LazyLoader(importlib.abc.Loader):
    """Wraps a module's loader so that its code runs on first use (see :class:`_LazyModule`)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        assert spec is not None
        spec.loader = self.loader
        module.__loader__ = self.loader
        spec.loader_state = {
            "__dict__": module.__dict__.copy(),
            "__class__": module.__class__,
            "lock": threading.RLock(),
            "is_loading": False,
        }
        module.__class__ = _LazyModule


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, lazy: frozenset[str], absent: frozenset[str]) -> None:
        self.lazy, self.absent = lazy, absent

    def find_spec(
        self, name: str, path: Any, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = name.partition(".")[0]
        if name in self.absent or top in self.absent:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if name not in self.lazy:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _LazyLoader(spec.loader)
            return spec
        return None


@contextlib.contextmanager
def deferred_imports(*, lazy: Iterable[str] = (), absent: Iterable[str] = ()) -> Iterator[None]:
    """Within the block, modules named in ``lazy`` (full dotted names) that are not loaded yet
    are imported lazily, and those in ``absent`` (with their submodules) fail to import as if not
    installed. Modules already loaded are untouched; after the block imports are as usual, and a
    lazy module stays lazy until something uses it."""
    finder = _Finder(frozenset(lazy), frozenset(absent) - set(sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)


def is_deferred(name: str) -> bool:
    """Whether the module ``name`` is loaded lazily and has not run yet."""
    return type(sys.modules.get(name)) is _LazyModule
