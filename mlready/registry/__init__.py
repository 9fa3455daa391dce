"""The model registry: versions of a model with all their metadata, aliases and their history.

Artifacts live in a content-addressed store beside the database (``<store>/<aa>/<sha256>.skops``,
or ``.joblib`` for a model stored as pickle) and are verified against the recorded sha256 before
they are loaded; a skops file's types are checked too, and pickle is loaded only when allowed
(see :mod:`mlready.model_format`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from mlready.errors import DataError, NotFoundError, UsageError
from mlready.model_format import ModelPolicy
from mlready.registry.db import URL_VARIABLE, create_schema, make_engine, retrying, tables
from mlready.registry.trained import TrainedRun, trained_run

__all__ = [
    "ModelRef",
    "Registry",
    "TrainedRun",
    "Version",
    "open_registry",
    "parse_ref",
    "trained_run",
]

#: A file's name inside the content-addressed store.
STORED_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.(skops|joblib|json)$")

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DIGITS = re.compile(r"[0-9]{1,30}")
#: The largest version a registry database holds (a signed 64-bit integer).
MAX_VERSION = 2**63 - 1
PRODUCTION = "production"
CANDIDATE = "candidate"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def check_name(name: str, what: str = "model name") -> str:
    """Names become folder names and SQL values: letters, digits, '_', '.', '-' only."""
    if not NAME.match(name) or ".." in name:
        raise UsageError(
            f"{what} {name!r} is not allowed: use letters, digits, '_', '.' or '-' "
            "(at most 64, no slashes or spaces)"
        )
    return name


@dataclass(frozen=True)
class ModelRef:
    """NAME@ALIAS, NAME:VERSION, or NAME (its production alias)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        return f"{self.name}@{self.alias or PRODUCTION}"


def parse_ref(text: str, default_name: str) -> ModelRef:
    """'churn@production', 'churn:3', '@candidate', ':3', '3' or 'churn'."""
    text = text.strip()
    if "@" in text:
        name, alias = text.split("@", 1)
        return ModelRef(check_name(name or default_name), alias=check_name(alias, "alias"))
    if ":" in text or DIGITS.fullmatch(text):
        name, _, number = text.rpartition(":")
        # ASCII digits only ('²'.isdigit() is true), and a number the database can hold
        if not DIGITS.fullmatch(number) or not 1 <= int(number) <= MAX_VERSION:
            raise UsageError(
                f"{text!r}: a version is a whole number from 1 to {MAX_VERSION:,}, as in churn:3"
            )
        return ModelRef(check_name(name or default_name), version=int(number))
    return ModelRef(check_name(text or default_name), alias=PRODUCTION)


@dataclass(frozen=True)
class Version:
    """One registered version, as the database records it."""

    model_name: str
    version: int
    sha256: str
    run_id: str | None
    created_at: str
    registered_by: str
    passed: bool
    allow_failing_reason: str | None
    artifact_uri: str
    artifact_bytes: int
    metadata_uri: str
    profile_uri: str | None
    model_type: str | None
    primary_metric: str | None
    primary_value: float | None
    data_fingerprint: str | None
    spec_hash: str | None
    git_commit: str | None
    metadata: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> Version:
        return cls.from_mapping(dict(row._mapping))

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Version:
        """A version from its row's columns by name."""
        data = dict(data)
        data.pop("id", None)
        data["passed"] = bool(data["passed"])  # SQLite keeps booleans as 0 and 1
        data["metadata"] = json.loads(data.pop("metadata_json"))
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        """Everything but the full metadata, for tables and JSON."""
        return {k: v for k, v in self.__dict__.items() if k != "metadata"}


class Registry:
    """A registry database and its artifact store; ``policy`` says which model files it loads
    (skops with the trusted types; joblib only when pickle is allowed).

    ``connect=False`` opens the database only when something needs it: a command that reads one
    version of a SQLite registry (serve-batch) reads it with the standard library's sqlite3 and
    never imports SQLAlchemy (a quarter of a second)."""

    def __init__(
        self,
        url: str,
        store: Path,
        *,
        create: bool = True,
        policy: ModelPolicy | None = None,
        connect: bool = True,
    ) -> None:
        self.url = url
        self.store = store
        self.policy = policy or ModelPolicy()
        self._create = create
        self._engine: Any = None
        if connect:
            self._connect()

    def _connect(self) -> Any:
        if self._engine is None:
            engine = make_engine(self.url)
            if self._create:
                create_schema(engine)
            self._engine = engine
        return self._engine

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine (made, and the schema created, on first use)."""
        return self._connect()

    @property
    def models(self) -> Any:
        return tables().tables["mlready_models"]

    @property
    def versions(self) -> Any:
        return tables().tables["mlready_versions"]

    @property
    def aliases(self) -> Any:
        return tables().tables["mlready_aliases"]

    @property
    def history(self) -> Any:
        return tables().tables["mlready_alias_history"]

    def _read_sqlite(self, ref: ModelRef) -> Version | None:
        """The version ``ref`` names, read from a SQLite registry with the standard library's
        sqlite3, read-only; None when the registry is no SQLite file, the read fails or finds
        nothing (the SQLAlchemy path then answers, and words any error)."""
        import sqlite3

        from mlready.registry.db import BUSY_TIMEOUT_S

        prefix = "sqlite:///"
        if self._engine is not None or not self.url.startswith(prefix) or "?" in self.url:
            return None
        path = Path(self.url[len(prefix) :])
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
            )
            try:
                conn.row_factory = sqlite3.Row
                number = ref.version
                if number is None:
                    found = conn.execute(
                        "SELECT version FROM mlready_aliases WHERE model_name = ? AND alias = ?",
                        (ref.name, ref.alias),
                    ).fetchone()
                    number = None if found is None else int(found[0])
                row = None
                if number is not None:
                    row = conn.execute(
                        "SELECT * FROM mlready_versions WHERE model_name = ? AND version = ?",
                        (ref.name, number),
                    ).fetchone()
            finally:
                conn.close()
            if row is None:
                return None
            return self._located(Version.from_mapping(dict(row)))
        except (sqlite3.Error, KeyError, TypeError, ValueError):
            return None

    # ---------------------------------------------------------------------------------- store

    def _put(self, source: Path, digest: str, suffix: str) -> str:
        """Copy a file into the content-addressed store (atomic; kept if already there); its
        name inside the store."""
        from mlready.io import atomic_path, sha256_file

        name = f"{digest[:2]}/{digest}{suffix}"
        target = self.store / name
        if target.exists() and sha256_file(target) == digest:
            return name
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
            if sha256_file(tmp) != digest:
                raise DataError(f"{source} changed while it was copied into the registry")
        return name

    def located(self, uri: str | None) -> str | None:
        """Where a stored file is now: a name inside the store (``aa/<sha256>.skops``) resolved
        against this registry's store. Rows written before names were relative hold an absolute
        path inside the store where they were registered; it is read as the same name, so a
        moved or copied project loads its own files, never another folder's."""
        if not uri:
            return uri
        parts = PurePosixPath(Path(uri).as_posix()).parts
        tail = "/".join(parts[-2:])
        if STORED_NAME.match(tail):
            return str(self.store / tail)
        return uri  # not a store name: loading refuses it (see verified_bytes)

    def _version(self, row: Any) -> Version:
        return self._located(Version.from_row(row))

    def _located(self, version: Version) -> Version:
        return replace(
            version,
            artifact_uri=self.located(version.artifact_uri) or version.artifact_uri,
            metadata_uri=self.located(version.metadata_uri) or version.metadata_uri,
            profile_uri=self.located(version.profile_uri),
        )

    # ---------------------------------------------------------------------------- register

    def register(
        self,
        name: str,
        run: TrainedRun,
        *,
        actor: str,
        allow_failing_reason: str | None = None,
    ) -> tuple[Version, bool]:
        """Version N+1 of ``name`` from a train run; (version, created). Registering an artifact
        already registered returns its version. The files must have the sha256 the run log
        recorded when train wrote them (see :func:`mlready.registry.trained.trained_run`)."""
        from mlready.io import sha256_bytes, sha256_file

        check_name(name)
        run_dir = run.folder
        metadata_path = run_dir / "metadata.json"
        model_path = run_dir / run.model_file
        if not metadata_path.is_file() or not model_path.is_file():
            raise DataError(
                f"{run_dir} holds no trained model ({run.model_file} and metadata.json): "
                "run `mlready train`, or pass the id of a train run with --run"
            )
        actual = sha256_file(model_path)
        if actual != run.model_sha256:
            raise DataError(
                f"refusing to register {model_path}: it has sha256 {actual[:12]}…, but train "
                f"recorded {run.model_sha256[:12]}… in the run log when it wrote run "
                f"{run.run_id}; the file was replaced after training: train again"
            )
        metadata_bytes = metadata_path.read_bytes()
        self._check_recorded(run, "metadata.json", sha256_bytes(metadata_bytes))
        try:
            metadata = json.loads(metadata_bytes)
            described = metadata["artifact"]["sha256"]
        except (ValueError, KeyError, TypeError):
            raise DataError(f"{metadata_path} is not the metadata train writes") from None
        if described != run.model_sha256:
            raise DataError(
                f"{metadata_path} describes a model with sha256 {described[:12]}…, but train "
                f"recorded {run.model_sha256[:12]}… for run {run.run_id}: train again"
            )
        if not metadata.get("passed") and not allow_failing_reason:
            failures = "; ".join(metadata.get("failures") or []) or "see its report"
            raise UsageError(
                f"run {run_dir.name} failed its checks ({failures}): register a passing run, "
                "or add --allow-failing --reason TEXT"
            )
        # the copy in the store is hashed again: bytes swapped after the check above never
        # get in under the recorded sha256
        artifact = self._put(model_path, run.model_sha256, model_path.suffix)
        metadata_uri = self._put(metadata_path, sha256_bytes(metadata_bytes), ".json")
        profile_path = run_dir / "reference_profile.json"
        profile_uri = None
        if profile_path.is_file():
            digest = sha256_file(profile_path)
            self._check_recorded(run, profile_path.name, digest)
            profile_uri = self._put(profile_path, digest, ".json")
        # paths inside the store, so that a project (and its store) can be moved or copied
        metadata["registry"] = {"artifact_uri": artifact, "metadata_uri": metadata_uri}

        from mlready.training.artifacts import judged_metric

        primary = (metadata.get("validation") or {}).get("primary_metric")
        judged = judged_metric(metadata, primary)
        row = {
            "model_name": name,
            "sha256": actual,
            "run_id": metadata.get("run_id") or run.run_id,
            "created_at": _now(),
            "registered_by": actor,
            "passed": bool(metadata.get("passed")),
            "allow_failing_reason": allow_failing_reason,
            "artifact_uri": artifact,
            "artifact_bytes": (self.store / artifact).stat().st_size,
            "metadata_uri": metadata_uri,
            "profile_uri": profile_uri,
            "model_type": (metadata.get("model") or {}).get("type"),
            "primary_metric": primary,
            "primary_value": judged,
            "data_fingerprint": (metadata.get("data") or {}).get("fingerprint"),
            "spec_hash": (metadata.get("spec") or {}).get("hash"),
            "git_commit": (metadata.get("git") or {}).get("commit"),
            "metadata_json": json.dumps(metadata, sort_keys=True),
        }
        return retrying(lambda: self._insert(row, actor))

    @staticmethod
    def _check_recorded(run: TrainedRun, name: str, digest: str) -> None:
        recorded = run.recorded.get(name)
        if recorded != digest:
            found = f"train recorded {recorded[:12]}…" if recorded else "train recorded none"
            raise DataError(
                f"refusing to register run {run.run_id}: its {name} has sha256 {digest[:12]}…, "
                f"{found} in the run log: train again"
            )

    def _insert(self, row: dict[str, Any], actor: str) -> tuple[Version, bool]:
        import sqlalchemy as sa

        name = row["model_name"]
        with self.engine.begin() as conn:
            existing = conn.execute(
                sa.select(self.versions).where(
                    self.versions.c.model_name == name, self.versions.c.sha256 == row["sha256"]
                )
            ).first()
            if existing is not None:
                return self._version(existing), False
            locked = conn.execute(  # the model's row, locked: one version number at a time
                sa.select(self.models.c.name).where(self.models.c.name == name).with_for_update()
            ).first()
            if locked is None:  # a first version; a racing insert fails and is retried
                conn.execute(sa.insert(self.models).values(name=name, created_at=_now()))
            newest = conn.execute(
                sa.select(sa.func.max(self.versions.c.version)).where(
                    self.versions.c.model_name == name
                )
            ).scalar()
            number = (newest or 0) + 1
            conn.execute(sa.insert(self.versions).values(version=number, **row))
            self._move(conn, name, CANDIDATE, number, "register", True, False, "registered", actor)
            created = conn.execute(
                sa.select(self.versions).where(
                    self.versions.c.model_name == name, self.versions.c.version == number
                )
            ).one()
        return self._version(created), True

    # ---------------------------------------------------------------------------- reading

    def model_names(self) -> list[str]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(self.models.c.name).order_by("name"))]

    def list_versions(self, name: str) -> list[Version]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(self.versions)
                .where(self.versions.c.model_name == name)
                .order_by(self.versions.c.version)
            ).all()
        return [self._version(r) for r in rows]

    def aliases_of(self, name: str) -> dict[str, int]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(self.aliases.c.alias, self.aliases.c.version).where(
                    self.aliases.c.model_name == name
                )
            ).all()
        return dict(rows)

    def history_of(self, name: str) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(self.history)
                .where(self.history.c.model_name == name)
                .order_by(self.history.c.id)
            ).all()
        out = []
        for r in rows:
            item = dict(r._mapping)
            item["details"] = json.loads(item.pop("details_json") or "null")
            out.append(item)
        return out

    def resolve(self, ref: ModelRef) -> Version:
        """The version a reference names; NotFoundError (exit 4), naming what exists, when it
        names none."""
        quick = self._read_sqlite(ref)
        if quick is not None:
            return quick
        import sqlalchemy as sa

        versions = self.versions
        with self.engine.connect() as conn:
            if ref.version is not None:
                number: int | None = ref.version
            else:
                number = conn.execute(
                    sa.select(self.aliases.c.version).where(
                        self.aliases.c.model_name == ref.name, self.aliases.c.alias == ref.alias
                    )
                ).scalar()
            row = None
            if number is not None:
                row = conn.execute(
                    sa.select(versions).where(
                        versions.c.model_name == ref.name, versions.c.version == number
                    )
                ).first()
        if row is None:
            known = self.model_names()
            if ref.name not in known:
                raise NotFoundError(
                    f"no model '{ref.name}' in the registry"
                    + (f"; it holds: {', '.join(known)}" if known else "; it is empty")
                    + ": run `mlready register` first"
                )
            numbers = [v.version for v in self.list_versions(ref.name)]
            aliases = self.aliases_of(ref.name)
            what = f"version {ref.version}" if ref.version is not None else f"alias '{ref.alias}'"
            raise NotFoundError(
                f"model '{ref.name}' has no {what}; versions: "
                f"{', '.join(map(str, numbers))}; aliases: "
                + (", ".join(f"{a} -> {v}" for a, v in sorted(aliases.items())) or "none")
            )
        return self._version(row)

    # ---------------------------------------------------------------------------- aliases

    def _move(
        self,
        conn: Any,
        name: str,
        alias: str,
        version: int | None,
        action: str,
        accepted: bool,
        forced: bool,
        reason: str,
        actor: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        import sqlalchemy as sa

        current = conn.execute(
            sa.select(self.aliases.c.version).where(
                self.aliases.c.model_name == name, self.aliases.c.alias == alias
            )
        ).scalar()
        if accepted and version is not None:
            if current is None:
                conn.execute(
                    sa.insert(self.aliases).values(
                        model_name=name, alias=alias, version=version, updated_at=_now()
                    )
                )
            else:
                conn.execute(
                    sa.update(self.aliases)
                    .where(self.aliases.c.model_name == name, self.aliases.c.alias == alias)
                    .values(version=version, updated_at=_now())
                )
        conn.execute(
            sa.insert(self.history).values(
                model_name=name,
                alias=alias,
                from_version=current,
                to_version=version,
                action=action,
                accepted=accepted,
                forced=forced,
                reason=reason,
                actor=actor,
                at=_now(),
                details_json=json.dumps(details, default=str) if details else None,
            )
        )

    def record_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        action: str,
        accepted: bool,
        forced: bool,
        reason: str,
        actor: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Move (when accepted) an alias and keep the decision in the audit history."""
        check_name(alias, "alias")

        def move() -> None:
            with self.engine.begin() as conn:
                self._move(
                    conn, name, alias, version, action, accepted, forced, reason, actor, details
                )

        retrying(move)

    def previous_version(self, name: str, alias: str) -> int | None:
        """The version the alias pointed to before its current one (for rollback)."""
        current = self.aliases_of(name).get(alias)
        moves = [
            h
            for h in self.history_of(name)
            if h["alias"] == alias and h["accepted"] and h["to_version"] is not None
        ]
        for item in reversed(moves):
            if item["to_version"] == current and item["from_version"] not in (None, current):
                return int(item["from_version"])
        return None

    # ---------------------------------------------------------------------------- loading

    def verified_bytes(self, version: Version) -> bytes:
        """The stored artifact's bytes, after checking them against the recorded sha256;
        DataError (exit 4) when the file is missing, outside the store or changed."""
        from mlready.io import sha256_bytes

        label = f"{version.model_name}:{version.version}"
        path = Path(version.artifact_uri)
        if not path.resolve().is_relative_to(self.store.resolve()):
            raise DataError(
                f"refusing to load {label}: its artifact {path} is not in the registry's "
                f"artifact store {self.store}; register the model again"
            )
        if not path.is_file():
            raise DataError(
                f"the artifact of {label} is missing at {path}: "
                "restore the artifact store, or register the model again"
            )
        data = path.read_bytes()
        digest = sha256_bytes(data)
        if digest != version.sha256:
            raise DataError(
                f"refusing to load {label}: {path} has sha256 "
                f"{digest[:12]}…, the registry recorded {version.sha256[:12]}…; the file was "
                "changed after registration (restore it, or register the model again)"
            )
        return data

    def check(self, version: Version) -> list[str]:
        """Check a version's stored files against their sha256 without loading anything: the
        artifact against the registry, metadata and profile against their content-addressed
        names, and a skops file's types against the trusted ones (DataError, exit 4). Notes on
        what loading it needs (pickle) are returned."""
        from mlready.io import sha256_file
        from mlready.model_format import format_of, untrusted_types

        data = self.verified_bytes(version)
        label = f"{version.model_name}:{version.version}"
        for uri in (version.metadata_uri, version.profile_uri):
            if not uri:
                continue
            path = Path(uri)
            named = path.name.split(".", 1)[0]
            if not path.is_file():
                raise DataError(
                    f"a stored file of {label} is missing at {path}: restore the artifact "
                    "store, or register the model again"
                )
            digest = sha256_file(path)
            if digest != named:
                raise DataError(
                    f"{path} of {label} has sha256 {digest[:12]}…, its name records "
                    f"{named[:12]}…: the file was changed after registration"
                )
        if format_of(version.artifact_uri) == "joblib":
            return [
                f"{label} is stored as joblib (pickle): it loads only with --allow-pickle "
                "(or model.allow_pickle); train and register it again to store it as skops"
            ]
        outside = untrusted_types(data, self.policy, f"the artifact of {label}")
        if outside:
            raise DataError(
                f"{label}'s skops file holds types mlready does not trust "
                f"({', '.join(outside)}): loading it would be refused; if you have reviewed "
                "them, list them under model.trusted_types in the spec"
            )
        return []

    def refuse_unloadable(self, version: Version) -> None:
        """DataError (exit 4) now, before any data is read, when loading the version would be
        refused for its format (pickle not allowed)."""
        from mlready.model_format import format_of, refuse_pickle

        if format_of(version.artifact_uri) == "joblib":
            refuse_pickle(self.policy, f"{version.model_name}:{version.version}")

    def load(self, version: Version) -> Any:
        """The version's model, built from the bytes whose sha256 was checked against the
        registry: a skops file when its types are trusted, a joblib file (pickle, which runs
        code) only when the policy allows pickle."""
        from mlready.model_format import format_of, load_model

        data = self.verified_bytes(version)
        self.refuse_unloadable(version)
        label = f"{version.model_name}:{version.version}"
        # the bytes that were verified, not the file again
        return load_model(data, format_of(version.artifact_uri), self.policy, label)

    def profile(self, version: Version) -> dict[str, Any] | None:
        if not version.profile_uri or not Path(version.profile_uri).is_file():
            return None
        return dict(json.loads(Path(version.profile_uri).read_text(encoding="utf-8")))


def environment_warnings(version: Version) -> list[str]:
    """Differences between the running Python and packages and those the model was trained with
    (mlready itself is left out: it reads every format it wrote)."""
    import platform
    from importlib import metadata as md

    recorded = version.metadata.get("environment") or {}
    label = f"{version.model_name}:{version.version}"
    out = []
    python = recorded.get("python")
    if python and python.rsplit(".", 1)[0] != platform.python_version().rsplit(".", 1)[0]:
        out.append(
            f"{label} was trained with Python {python}, this is "
            f"{platform.python_version()}: predictions may differ or loading may fail"
        )
    for package, trained in sorted((recorded.get("packages") or {}).items()):
        if package == "mlready" or not trained:
            continue
        try:
            running: str | None = md.version(package)
        except md.PackageNotFoundError:
            running = None
        if running == trained:
            continue
        out.append(
            f"{label} was trained with {package} {trained}, "
            + (f"this is {running}" if running else "it is not installed here")
            + f": retrain, or pin {package}=={trained}"
        )
    return out


def registry_location(loaded: Any) -> tuple[str, Path]:
    """The registry URL (environment override, spec, or a SQLite file) and artifact store."""
    import os

    spec = loaded.spec
    artifacts = Path(spec.project.artifacts_dir)
    url = os.environ.get(URL_VARIABLE) or spec.registry.url
    if not url:  # the spec's URL was resolved against its folder when it was loaded
        artifacts.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{artifacts / 'registry.db'}"
    store = (
        Path(spec.registry.artifact_store)
        if spec.registry.artifact_store
        else (artifacts / "registry" / "artifacts")
    )
    return url, store


def open_registry(loaded: Any, *, connect: bool = True) -> Registry:
    """The spec's registry, created on first use; it loads models under the spec's policy
    (``model.allow_pickle``, ``model.trusted_types``). ``connect=False``: see Registry."""
    url, store = registry_location(loaded)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return Registry(url, store, policy=ModelPolicy.of(loaded.spec), connect=connect)
