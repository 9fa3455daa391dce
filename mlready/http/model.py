"""The served model: loaded sha256-verified through the registry, its canary passed, swapped
whole when the spec's alias moves (a request holds one ``ServedModel`` from start to end, so it is
never scored by two versions)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlready.spec import LoadedSpec

__all__ = ["ModelSlot", "ServedModel", "load_model"]


@dataclass
class ServedModel:
    """One registered version, loaded and checked, with what scoring a request needs."""

    info: Any  # mlready.serving.ModelInfo
    scorer: Any  # mlready.serving.Scorer
    known: dict[str, set[str]]
    canary: dict[str, Any]
    loaded_at: float
    load_s: float
    #: the contract's checks per set of request columns (built once per column set)
    checks: dict[tuple[str, ...], tuple[list[Any], list[str]]] = field(default_factory=dict)
    #: the fast path of small JSON requests (mlready.http.fast.FastPath)
    fast: Any = None

    @property
    def sha256(self) -> str:
        return str(self.info.sha256)

    @property
    def label(self) -> str:
        return f"{self.info.name}:{self.info.version}"

    def describe(self) -> dict[str, Any]:
        """The version as the registry records it, and how it was loaded (GET /model)."""
        handle = self.info.handle
        out: dict[str, Any] = dict(handle.summary()) if handle is not None else {}
        out.update(self.info.describe())
        out.update(
            features={"numeric": self.info.numeric, "categorical": self.info.categorical},
            id_columns=self.info.id_columns,
            classes=[str(c) for c in self.info.classes],
            output=self.scorer.payload,
            # small JSON requests skip pandas: through the compiled pipeline when it matched
            # the fitted one to the last bit at load, else through the fitted Pipeline
            fast_path="compiled" if self.fast is not None and self.fast.compiled else "pipeline",
            canary=self.canary,
            load_s=round(self.load_s, 4),
        )
        return out


def load_model(loaded: LoadedSpec, ref: str | None) -> ServedModel:
    """Resolve ``ref`` (default: the production alias), load its verified artifact, run its
    canary (CheckFailed when it fails)."""
    from mlready.serving import Scorer, canary, known_categories, resolve_model

    start = time.perf_counter()
    info = resolve_model(loaded, ref)
    model = info.registry.load(info.handle)  # sha256-verified by the registry
    scorer = Scorer(model, info)
    checked = canary(scorer)
    served = ServedModel(
        info=info,
        scorer=scorer,
        known=known_categories(info),
        canary=checked,
        loaded_at=time.time(),
        load_s=0.0,
    )
    from mlready.http.fast import FastPath

    served.fast = FastPath(loaded, served)  # compiled and verified before the model serves
    served.load_s = time.perf_counter() - start
    return served


def _resolved_sha256(loaded: LoadedSpec, ref: str | None) -> tuple[str, int]:
    """(sha256, version) the reference names now, from the registry's database only."""
    from mlready.registry import open_registry, parse_ref

    version = open_registry(loaded).resolve(parse_ref(ref or "", loaded.spec.model_name))
    return version.sha256, version.version


class ModelSlot:
    """Holds the served model; ``poll`` swaps in the version the reference names now."""

    def __init__(
        self,
        loaded: LoadedSpec,
        ref: str | None,
        *,
        logger: logging.Logger | None = None,
        on_swap: Callable[[ServedModel | None, ServedModel], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.ref = ref
        self.log = logger or logging.getLogger("mlready.http")
        self.on_swap = on_swap
        self.current: ServedModel | None = None
        self.error: str | None = None  # why the model is not (or no longer) the newest
        self.swaps = 0
        self._lock = threading.Lock()

    def load(self) -> ServedModel | None:
        """Load the version the reference names now (keeping the one served on failure)."""
        from mlready.errors import MlreadyError

        with self._lock:
            try:
                served = load_model(self.loaded, self.ref)
            except MlreadyError as exc:
                self.error = str(exc)
                self.log.error("model not loaded: %s", exc)
                return None
            except Exception as exc:  # a broken artifact must not stop the server
                self.error = f"{type(exc).__name__}: {exc}"
                self.log.error("model not loaded: %s", self.error)
                return None
            old = self.current
            if self.on_swap is not None:
                self.on_swap(old, served)
            self.current = served  # one assignment: a request sees the old or the new model
            self.error = None
            if old is not None:
                self.swaps += 1
                self.log.info("model swapped: %s -> %s", old.label, served.label)
            else:
                self.log.info(
                    "model %s loaded (sha256 %s) in %.2f s; canary passed on %s rows",
                    served.label,
                    served.sha256[:12],
                    served.load_s,
                    served.canary.get("rows"),
                )
            return served

    def poll(self) -> bool:
        """Swap when the reference names another artifact than the one served; True when it
        swapped."""
        try:
            sha256, version = _resolved_sha256(self.loaded, self.ref)
        except Exception as exc:  # the registry away for a moment: keep serving
            self.log.warning("registry not read (serving the loaded model): %s", exc)
            return False
        current = self.current
        if current is not None and current.sha256 == sha256:
            return False
        self.log.info("the registry names version %s now: loading it", version)
        return self.load() is not None
