"""How a fitted model is stored and loaded: skops by default, joblib (pickle) only when allowed.

A skops file is a zip of JSON (the object tree, each object by its type's name) and numpy arrays;
loading it builds objects of trusted types only, and nothing in the file is run. Trusted are
skops' own defaults (Python's builtins, numpy and scipy types, scikit-learn's public estimators)
and the types in :data:`TRUSTED_TYPES`, the few others mlready's pipelines hold, plus any a
project lists under ``model.trusted_types`` in its spec. Trust comes from the code and the spec,
never from the file or the registry: whoever can write those cannot widen it.

train checks a model's types before it writes the file (and records them in metadata.json);
loading checks them again before anything is built. joblib is pickle, which runs code named by
the file's bytes when it loads: mlready writes it only when asked (``--allow-pickle`` or
``model.allow_pickle``) and loads it under the same permission. Either way, the bytes are loaded
only after their sha256 matched the one recorded when train wrote them (the registry does that).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlready.errors import DataError

__all__ = [
    "FORMATS",
    "MODEL_FILES",
    "TRUSTED_TYPES",
    "ModelPolicy",
    "dump_model",
    "format_of",
    "load_model",
    "refuse_pickle",
    "untrusted_types",
]

#: The formats a model is stored in, by their file ending.
FORMATS = {".skops": "skops", ".joblib": "joblib"}
#: The model file train writes, by format.
MODEL_FILES = {"skops": "model.skops", "joblib": "model.joblib"}

#: Types a model built by mlready holds that skops does not trust by default, and why each is
#: trusted. Everything else skops would build is one of its own defaults.
TRUSTED_TYPES: dict[str, str] = {
    "mlready.training.pipeline.to_text": (
        "mlready's function that reads categorical columns as text (a FunctionTransformer)"
    ),
    "mlready.training.pipeline.to_float": (
        "mlready's function that reads numeric columns as float64 (a FunctionTransformer)"
    ),
    "numpy.dtype": "the column types fitted transformers record",
    "sklearn.utils._bunch.Bunch": "voting and stacking ensembles: their fitted members by name",
    "functools.partial": (
        "histogram gradient boosting's input check (a partial of check_array; a partial can "
        "only name a function that is itself trusted)"
    ),
    "sklearn.utils.validation.check_array": "the function that partial names",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": (
        "the trees of histogram gradient boosting"
    ),
    "sklearn.tree._tree.Tree": (
        "the trees of decision trees, random and extra-trees forests, and gradient boosting"
    ),
}


@dataclass(frozen=True)
class ModelPolicy:
    """Which model files may be written and loaded: skops with the trusted types (mlready's and
    the spec's ``model.trusted_types``), and joblib (pickle) only when pickle is allowed."""

    allow_pickle: bool = False
    #: Types the project trusts besides :data:`TRUSTED_TYPES` (the spec's model.trusted_types).
    trusted: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: Any, *, allow_pickle: bool = False) -> ModelPolicy:
        """The spec's policy; ``allow_pickle`` is the command's --allow-pickle."""
        model = spec.model
        return cls(
            allow_pickle=bool(allow_pickle or model.allow_pickle),
            trusted=tuple(model.trusted_types),
        )

    @property
    def write_format(self) -> str:
        """What train writes: joblib when pickle is allowed (asked for), else skops."""
        return "joblib" if self.allow_pickle else "skops"

    def allowed(self) -> frozenset[str]:
        return frozenset(TRUSTED_TYPES) | frozenset(self.trusted)


def _skops_io(names_hook: Callable[[Any], Any] | None = None) -> Any:
    """``skops.io``, imported without Dask and without skops' slow searches. To list
    scikit-learn's estimators as trusted, skops imports every scikit-learn package, and one of
    them (its array API support for Dask arrays) imports Dask, and Dask Jinja2: a third of skops'
    import time, and two libraries serving does not use. Dask is kept out only while skops is
    imported, and only when nothing has imported it yet (the Dask engine has, and keeps it). The
    estimators themselves, and the names of numpy's and scipy's ufuncs (which skops finds by
    searching every loaded module for each), come from :mod:`mlready.sklearn_estimators` when
    they were taken from the installed releases: the same names, found without the search.
    ``names_hook`` (for regenerating those names) wraps skops' ``get_public_type_names``."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import sklearn.utils

    from mlready.sklearn_estimators import listed, type_key, type_names

    known = listed()
    finder = sklearn.utils.all_estimators
    if known is not None:
        sklearn.utils.all_estimators = lambda type_filter=None: known  # type: ignore[assignment]
    if names_hook is None:
        recorded = type_names()
        if recorded is not None:
            names_hook = _recorded_names(recorded, type_key)
    hook = _UtilsHook(names_hook) if names_hook is not None else None
    if hook is not None:
        sys.meta_path.insert(0, hook)
    blocked = "dask" not in sys.modules
    if blocked:
        sys.modules["dask"] = None  # type: ignore[assignment]  # so that import dask fails
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators = finder
        if hook is not None and hook in sys.meta_path:
            sys.meta_path.remove(hook)
        if blocked and "dask" in sys.modules and sys.modules["dask"] is None:
            del sys.modules["dask"]
    return skops.io


def _recorded_names(
    recorded: dict[str, tuple[str, ...]], key: Callable[[Any, type], str]
) -> Callable[[Any], Any]:
    """A hook answering skops' ``get_public_type_names`` from ``recorded`` (skops' own answer
    for the calls not recorded)."""

    def hook(real: Any) -> Any:
        def get_public_type_names(module: Any, oftype: type) -> list[str]:
            names = recorded.get(key(module, oftype))
            return list(names) if names is not None else real(module=module, oftype=oftype)

        return get_public_type_names

    return hook


class _UtilsHook:
    """An import hook that, once ``skops.io._utils`` has run, replaces its
    ``get_public_type_names`` with ``wrap(the original)`` (skops' trusted types take it from
    there while they are computed, on the same import)."""

    NAME = "skops.io._utils"

    def __init__(self, wrap: Callable[[Any], Any]) -> None:
        self.wrap = wrap

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != self.NAME:
            return None
        from importlib.machinery import PathFinder

        if self in sys.meta_path:
            sys.meta_path.remove(self)  # once, and not for the lookup below
        spec = PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if spec is None or run is None:
            return spec
        wrap = self.wrap

        def exec_module(module: Any) -> None:
            run(module)
            module.get_public_type_names = wrap(module.get_public_type_names)

        loader.exec_module = exec_module  # type: ignore[union-attr]
        return spec


def format_of(name: str | Path) -> str:
    """A model file's format, by its ending; DataError for any other file."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(
            f"{name} is not a model file mlready wrote (expected {' or '.join(FORMATS)}): "
            "train and register the model again"
        )
    return FORMATS[suffix]


def _skops_types(data: bytes, what: str) -> list[str]:
    """The types in a skops file that skops does not trust by default; nothing is built."""
    try:
        return sorted(_skops_io().get_untrusted_types(data=data))
    # whatever skops cannot parse (not a zip, no schema, JSON nested too deep, a schema of the
    # wrong shape) is an unreadable artifact, not a crash
    except Exception as exc:
        raise DataError(
            f"{what} is not a readable skops file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}): "
            "train and register the model again"
        ) from None


def untrusted_types(data: bytes, policy: ModelPolicy, what: str = "the model file") -> list[str]:
    """The types in a skops file that neither skops nor the policy trusts (empty: it loads)."""
    allowed = policy.allowed()
    return [name for name in _skops_types(data, what) if name not in allowed]


def _fix(policy: ModelPolicy) -> str:
    listed = " (besides those it lists now)" if policy.trusted else ""
    return f"if you have reviewed them, list them under model.trusted_types in the spec{listed}"


def dump_model(model: Any, path: Path, policy: ModelPolicy) -> dict[str, Any]:
    """Write ``model`` to ``path`` atomically in the policy's format; what metadata.json records
    of it (format, and for skops the types it holds beyond skops' defaults). DataError (exit 4),
    and no file, when skops cannot store the model or it holds types nobody trusted."""
    from mlready.io import atomic_path, atomic_write_bytes

    if policy.write_format == "joblib":
        import joblib

        with atomic_path(path) as tmp:
            joblib.dump(model, tmp, compress=3)
        return {"format": "joblib"}

    skops_io = _skops_io()
    try:
        raw = skops_io.dumps(model)
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"skops cannot store this model ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}): train with "
            "--allow-pickle to store it as joblib (pickle) instead"
        ) from None
    data = _deterministic(raw)
    held = _skops_types(data, "the model skops wrote")
    outside = [name for name in held if name not in policy.allowed()]
    if outside:
        raise DataError(
            f"the model holds types mlready does not trust in a skops file "
            f"({', '.join(outside)}): {_fix(policy)}, or train with --allow-pickle to store it "
            "as joblib (pickle) instead"
        )
    atomic_write_bytes(path, data)
    return {"format": "skops", "trusted_types": held}


#: Every entry of a stored skops file gets this time: the same model gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _deterministic(data: bytes) -> bytes:
    """The skops file with the same content whatever process wrote it: skops names objects and
    array files by their memory address (``id()``) and stamps entries with the current time, so
    the same model would get a new sha256 each time (and two trainings on the same data could
    never be seen to agree). Addresses become 1, 2, 3... in the order the object tree lists
    them, entries get a fixed time, and everything is deflated (a fifth of the size, no slower
    to load: benchmarks/bench_model_format.py)."""
    import json
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    names = set(source.namelist())
    schema = json.loads(source.read("schema.json"))
    numbers: dict[int, int] = {}
    renamed: dict[str, str] = {}

    def number(old: int) -> int:
        return numbers.setdefault(old, len(numbers) + 1)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("__id__"), int):
                node["__id__"] = number(node["__id__"])
            stored = node.get("file")
            if isinstance(stored, str) and stored in names:
                stem, _, suffix = stored.rpartition(".")
                if stored not in renamed:  # an array by its object's id; bytes by a uuid
                    new = number(int(stem)) if stem.isdigit() else f"b{len(renamed) + 1}"
                    renamed[stored] = f"{new}.{suffix}"
                node["file"] = renamed[stored]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        entries = [("schema.json", json.dumps(schema, indent=2).encode())] + [
            (new, source.read(old)) for old, new in sorted(renamed.items(), key=lambda i: i[1])
        ]
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()


def load_model(data: bytes, fmt: str, policy: ModelPolicy, label: str) -> Any:
    """The model in ``data`` (bytes whose sha256 the caller has checked). DataError (exit 4),
    before anything is built, for pickle that is not allowed and for skops types nobody
    trusted; DataError too when the bytes do not load here."""
    if fmt == "joblib":
        refuse_pickle(policy, label)
        import joblib

        try:
            return joblib.load(io.BytesIO(data))
        except (ImportError, AttributeError, EOFError, ValueError, TypeError) as exc:
            raise DataError(_unloadable(label, exc)) from None
    if fmt != "skops":
        raise DataError(f"{label} is stored as {fmt!r}, a format mlready does not load")
    skops_io = _skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        # skops lists the file's types and refuses any outside ``trusted`` before it imports or
        # builds anything; one pass over the file (listing first would read it twice)
        return skops_io.loads(data, trusted=sorted(policy.allowed()))
    except UntrustedTypesFoundException:
        outside = untrusted_types(data, policy, f"the artifact of {label}")
        raise DataError(
            f"refusing to load {label}: its skops file holds types mlready does not trust "
            f"({', '.join(outside)}), and nothing was loaded: {_fix(policy)}"
        ) from None
    except Exception as exc:
        _skops_types(data, f"the artifact of {label}")  # unreadable: DataError saying so
        # readable, of trusted types, and still not built here (a package missing or changed)
        raise DataError(_unloadable(label, exc)) from None


def refuse_pickle(policy: ModelPolicy, label: str) -> None:
    """DataError (exit 4) unless pickle is allowed: a joblib file runs code when it loads."""
    if not policy.allow_pickle:
        raise DataError(
            f"refusing to load {label}: it is stored as joblib (pickle), which runs code from "
            "the file when it loads: pass --allow-pickle (or set model.allow_pickle: true in "
            "the spec) if you trust it, or train and register it again to store it as skops"
        )


def _unloadable(label: str, exc: Exception) -> str:
    detail = str(exc).splitlines()[0] if str(exc) else "no detail"
    return (
        f"{label} does not load here ({type(exc).__name__}: {detail}): install the packages "
        "it was trained with (`mlready registry show` lists them), or train it again"
    )
