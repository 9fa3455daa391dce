"""Import an estimator named in the spec and check its parameters, without fitting anything."""

from __future__ import annotations

import importlib
import inspect
from typing import Any


class EstimatorProblem(ValueError):
    """The estimator cannot be imported, is not an estimator, or does not take a parameter."""


def import_estimator(import_path: str) -> type:
    """Import ``package.module.Class`` and return the class."""
    module_name, _, class_name = import_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EstimatorProblem(
            f"cannot import module '{module_name}' ({exc.msg}): check the spelling, or install "
            "the package that provides it"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        public = [n for n in dir(module) if n[:1].isupper()]
        import difflib

        close = difflib.get_close_matches(class_name, public, n=1)
        hint = f"; did you mean {module_name}.{close[0]}?" if close else ""
        raise EstimatorProblem(f"module '{module_name}' has no '{class_name}'{hint}")
    if not inspect.isclass(cls) or not hasattr(cls, "fit"):
        raise EstimatorProblem(f"'{import_path}' is not an estimator class with a fit method")
    return cls


def estimator_parameters(import_path: str, *, read_source: bool = False) -> tuple[str, set[str]]:
    """(class name, the parameters it takes); EstimatorProblem unless it is an estimator class.

    ``read_source``: read a scikit-learn class from its source when that settles it, instead of
    importing it (importing scikit-learn costs about a second; see mlready.spec.signatures).
    The answer is the same; a caller about to use the class anyway gains nothing by it.
    """
    if read_source:
        from mlready.spec.signatures import source_parameters

        read = source_parameters(import_path)
        if read is not None:
            return read[0], set(read[1])
    cls = import_estimator(import_path)
    try:
        accepted = set(cls().get_params(deep=False))
    except Exception:
        accepted = {
            name
            for name, p in inspect.signature(cls).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
    return cls.__name__, accepted


def check_estimator(import_path: str, params: dict[str, Any], *, read_source: bool = False) -> None:
    """Raise EstimatorProblem unless the class exists and accepts every parameter given
    (``read_source``: see estimator_parameters)."""
    name, accepted = estimator_parameters(import_path, read_source=read_source)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise EstimatorProblem(
            f"{name} takes no parameter {', '.join(repr(u) for u in unknown)}; "
            f"it takes: {', '.join(sorted(accepted))}"
        )
