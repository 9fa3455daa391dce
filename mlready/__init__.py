"""mlready: from a model that works in a notebook to a product.

The public API is loaded lazily so that ``import mlready`` (and ``mlready --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
#: The name mlready is published under (`pip install mlready-cli`): "mlready" on PyPI is another
#: author's project. The import package and the command are `mlready`.
DISTRIBUTION = "mlready-cli"

__all__ = [
    "DISTRIBUTION",
    "EXIT_CODES",
    "LoadedSpec",
    "MlreadyError",
    "ProjectSpec",
    "__version__",
    "load_spec",
]

_LAZY = {
    "EXIT_CODES": "mlready.errors",
    "MlreadyError": "mlready.errors",
    "LoadedSpec": "mlready.spec",
    "ProjectSpec": "mlready.spec",
    "load_spec": "mlready.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlready' has no attribute {name!r}")
