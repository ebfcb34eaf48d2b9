"""A result made of rows that still behaves like the list of rows it used to be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class RowsResult:
    """Iterates, indexes and counts like its `rows` (compare results were plain lists)."""

    rows: list

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Any:
        return self.rows[i]
