"""The registry's database: four tables through SQLAlchemy Core, SQLite or PostgreSQL.

Consistency rules, and how they hold under concurrent writers:

* A version number is taken inside the transaction that inserts the version, after the model's
  row is locked: ``BEGIN IMMEDIATE`` on SQLite (one writer at a time, others wait up to the busy
  timeout instead of failing with "database is locked"), ``SELECT ... FOR UPDATE`` on PostgreSQL.
  ``UNIQUE(model_name, version)`` backs it up; a conflict is retried.
* ``UNIQUE(model_name, sha256)`` makes registering one artifact twice return the same version.
* The artifact is stored (content-addressed, atomically) before the transaction: a process killed
  at any point leaves the whole version or none of it, never a version without its file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from mlready.errors import DataError

T = TypeVar("T")

#: An environment variable that overrides registry.url (keeps passwords out of the spec).
URL_VARIABLE = "MLREADY_REGISTRY_URL"
BUSY_TIMEOUT_S = 60
RETRIES = 20


def _tables() -> Any:
    import sqlalchemy as sa

    meta = sa.MetaData()
    sa.Table(
        "mlready_models",
        meta,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    sa.Table(
        "mlready_versions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "model_name", sa.String(64), sa.ForeignKey("mlready_models.name"), nullable=False
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("registered_by", sa.String(256), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("allow_failing_reason", sa.Text),
        sa.Column("artifact_uri", sa.Text, nullable=False),
        sa.Column("artifact_bytes", sa.BigInteger, nullable=False),
        sa.Column("metadata_uri", sa.Text, nullable=False),
        sa.Column("profile_uri", sa.Text),
        sa.Column("model_type", sa.String(256)),
        sa.Column("primary_metric", sa.String(32)),
        sa.Column("primary_value", sa.Float),
        sa.Column("data_fingerprint", sa.String(64)),
        sa.Column("spec_hash", sa.String(64)),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("metadata_json", sa.Text, nullable=False),
        sa.UniqueConstraint("model_name", "version", name="uq_version_number"),
        sa.UniqueConstraint("model_name", "sha256", name="uq_version_artifact"),
    )
    sa.Table(
        "mlready_aliases",
        meta,
        sa.Column("model_name", sa.String(64), primary_key=True),
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    sa.Table(
        "mlready_alias_history",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("details_json", sa.Text),
    )
    return meta


_META: Any = None


def tables() -> Any:
    """The registry's MetaData (built once)."""
    global _META
    if _META is None:
        _META = _tables()
    return _META


def make_engine(url: str) -> Any:
    """An engine whose transactions take the write lock up front on SQLite."""
    import sqlalchemy as sa

    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(
                url, connect_args={"timeout": BUSY_TIMEOUT_S}, poolclass=sa.pool.NullPool
            )

            @sa.event.listens_for(engine, "connect")
            def _connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
    except ImportError as exc:  # the URL's database driver is not installed
        from mlready import DISTRIBUTION

        hint = "set registry.url in the spec to a sqlite:/// or postgresql+psycopg:// URL"
        if url.startswith("postgresql"):
            hint = f"install the PostgreSQL driver: pip install '{DISTRIBUTION}[postgres]'"
        raise DataError(
            f"cannot use registry URL {redact(url)}: {str(exc).splitlines()[0]}", hint=hint
        ) from None
    except Exception as exc:
        raise DataError(
            f"cannot use registry URL {redact(url)}: {str(exc).splitlines()[0]}",
            hint="set registry.url in the spec to a sqlite:/// or postgresql+psycopg:// URL",
        ) from None
    return engine


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def create_schema(engine: Any) -> None:
    """Create the tables once; concurrent first uses are safe (retried on a race)."""
    import sqlalchemy as sa

    def create() -> None:
        tables().create_all(engine, checkfirst=True)

    try:
        retrying(create)
    except sa.exc.DatabaseError as exc:  # (OperationalError is one)
        cause = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        damaged = any(w in cause.lower() for w in ("not a database", "malformed", "corrupt"))
        raise DataError(
            f"cannot open the registry at {redact(str(engine.url))}: {cause}",
            hint=(
                "the file is damaged or not a SQLite database: restore it from a backup, or "
                "move it aside to start an empty registry (the artifact store keeps the models)"
                if damaged
                else "check registry.url (and that the database server is running)"
            ),
        ) from None


def retrying(action: Callable[[], T]) -> T:
    """Run a transaction, again on a uniqueness race or a lock timeout, with backoff."""
    import sqlalchemy as sa

    delay = 0.02
    for attempt in range(RETRIES):
        try:
            return action()
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
            text = str(exc).lower()
            transient = isinstance(exc, sa.exc.IntegrityError) or any(
                word in text
                for word in ("locked", "already exists", "deadlock", "could not serialize")
            )
            if not transient or attempt == RETRIES - 1:
                raise
            time.sleep(delay * (1 + (os.getpid() % 7) / 7))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")  # pragma: no cover
