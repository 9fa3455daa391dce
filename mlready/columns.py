"""One typed reading of the data contract, shared by every command that reads a table.

CSV has no types: left alone, a parser reads the zip code ``01234`` as the number 1234, so
validation, training and serving would each see a different value. :class:`ColumnTypes` says,
from the spec, which columns are text (declared ``type: string``, categorical features, id
columns) and which are numbers, and reads tables accordingly; a column of digit strings with
leading zeros that the spec does not declare numeric is read as text too (it is a code).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlready.spec import ProjectSpec

__all__ = ["ColumnTypes"]

_NUMERIC_TYPES = ("integer", "float", "number")


@dataclass(frozen=True)
class ColumnTypes:
    """Which columns the contract reads as text and which as numbers."""

    text: frozenset[str] = frozenset()
    numeric: frozenset[str] = frozenset()

    @classmethod
    def of(cls, spec: ProjectSpec) -> ColumnTypes:
        """The spec's reading: a declared type wins, then the features' roles, then ids."""
        data = spec.data
        text: set[str] = set(data.features.categorical or ()) | set(data.id_columns)
        numeric: set[str] = set(data.features.numeric or ())
        for column, expectation in spec.expectations.columns.items():
            if expectation.type == "string":
                text.add(column)
                numeric.discard(column)
            elif expectation.type in _NUMERIC_TYPES or (
                expectation.type is None
                and (expectation.min is not None or expectation.max is not None)
            ):
                numeric.add(column)
                text.discard(column)
            elif (
                expectation.type is None
                and expectation.allowed_values
                and all(isinstance(v, str) for v in expectation.allowed_values)
            ):
                text.add(column)
        return cls(frozenset(text - numeric), frozenset(numeric))

    def read(self, path: str | Path | None = None, *, sql: tuple[str, str] | None = None) -> Any:
        """The whole table, typed by the contract (see :func:`mlready.io.read_table`)."""
        from mlready.io import read_table

        return read_table(path, sql=sql, text=self.text, numeric=self.numeric)

    def chunks(
        self,
        path: str | Path | None = None,
        *,
        sql: tuple[str, str] | None = None,
        chunk_rows: int,
        columns: list[str] | None = None,
    ) -> Iterator[Any]:
        """The table in chunks, each typed as :meth:`read` types the whole."""
        from mlready.io import iter_table

        yield from iter_table(
            path,
            sql=sql,
            chunk_rows=chunk_rows,
            columns=columns,
            text=self.text,
            numeric=self.numeric,
        )
