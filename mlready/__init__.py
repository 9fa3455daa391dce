"""mlready: from a model that works in a notebook to a product.

In a notebook or a script, open a project and run its steps; each returns the result its
command prints, with ``to_dict()`` and an HTML view::

    import mlready

    project = mlready.Project("path/to/mlready.yaml")
    run = project.train()
    run.passed, run.report

The public API is loaded lazily so that ``import mlready`` (and ``mlready --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
#: The name mlready is published under (`pip install mlready-cli`): "mlready" on PyPI is another
#: author's project. The import package and the command are `mlready`.
DISTRIBUTION = "mlready-cli"

__all__ = [
    "DISTRIBUTION",
    "EXIT_CODES",
    "DriftRun",
    "LoadedSpec",
    "MlreadyError",
    "Project",
    "ProjectSpec",
    "ReadinessRun",
    "RegisterRun",
    "Registration",
    "RunComparison",
    "RunEntry",
    "RunTable",
    "ServeRun",
    "StepRun",
    "TrainRun",
    "ValidationRun",
    "__version__",
    "load_spec",
]

_LAZY = {
    "EXIT_CODES": "mlready.errors",
    "MlreadyError": "mlready.errors",
    "LoadedSpec": "mlready.spec",
    "ProjectSpec": "mlready.spec",
    "load_spec": "mlready.spec",
    "Project": "mlready.project",
    "StepRun": "mlready.project",
    "ValidationRun": "mlready.project",
    "TrainRun": "mlready.project",
    "RegisterRun": "mlready.project",
    "Registration": "mlready.project",
    "ServeRun": "mlready.project",
    "DriftRun": "mlready.project",
    "ReadinessRun": "mlready.project",
    "RunComparison": "mlready.history",
    "RunEntry": "mlready.history",
    "RunTable": "mlready.history",
}

if TYPE_CHECKING:
    from mlready.errors import EXIT_CODES, MlreadyError
    from mlready.history import RunComparison, RunEntry, RunTable
    from mlready.project import (
        DriftRun,
        Project,
        ReadinessRun,
        RegisterRun,
        Registration,
        ServeRun,
        StepRun,
        TrainRun,
        ValidationRun,
    )
    from mlready.spec import LoadedSpec, ProjectSpec, load_spec


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlready' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
