"""Rows streamed to a Parquet dataset (a folder of `part-RRRR-BBBBBB.parquet` files).

Rows are buffered and written as one file per batch (every BATCH_ROWS rows or
BATCH_SECONDS, whichever comes first), each written to a hidden temporary name and renamed,
so a killed sweep leaves only whole files: its finished batches survive, and `--resume`
skips the cells whose `cell_key` is already stored. RRRR numbers the runs (1 for the first,
2 for the first resume, ...).

Column types are fixed by the first value seen (bool, int64, float64, string); a column
that later holds a float widens to float64, one that mixes other types becomes string. When
a sweep finishes, files written before a column appeared or widened are rewritten to the
final schema, so every file agrees and the folder reads straight into pandas
(`pd.read_parquet(out)`), polars (`pl.read_parquet(f"{out}/*.parquet")`) or DuckDB
(`SELECT * FROM 'out/*.parquet'`). The schema metadata records the sweep's kind.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from xpuplan.errors import SpecError
from xpuplan.sweep.cells import META

# Batching knobs (software, not figures): an interrupt loses at most this much finished work.
BATCH_ROWS = 1000
BATCH_SECONDS = 10.0
PART = re.compile(r"part-(\d{4})-(\d{6})\.parquet$")
KIND_KEY = b"xpuplan.sweep.kind"


def _type_of(value) -> pa.DataType | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.string()


def _wider(old: pa.DataType | None, new: pa.DataType | None) -> pa.DataType | None:
    if old is None or new is None or old == new:
        return old or new
    if {old, new} == {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def _cell(value, t: pa.DataType):
    """A value in the column's type (ints widen to float; other mixes become text)."""
    if value is None:
        return None
    if t == pa.float64() and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if t == pa.string() and not isinstance(value, str):
        return json.dumps(value)
    return value


class ResultStore:
    """A sweep's Parquet folder: the keys already stored, and the batches still to write."""

    def __init__(self, path: str | os.PathLike, kind: str, resume: bool = False):
        self.path, self.kind = Path(path), kind
        self.types: dict[str, pa.DataType | None] = {k: None for k in META}
        self.buffer: list[dict] = []
        self.last_write = time.monotonic()
        self.done: set[str] = set()
        self.rows_written = 0
        parts = self._open(resume)
        runs = [int(m.group(1)) for p in parts if (m := PART.match(p.name))]  # all match
        self.run, self.batch = max(runs, default=0) + 1, 0

    def _open(self, resume: bool) -> list[Path]:
        """Check the folder can be written; read the keys and schema of earlier runs."""
        if self.path.exists() and not self.path.is_dir():
            raise SpecError("out", str(self.path), "exists and is not a sweep folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SpecError("out", str(self.path), f"cannot write there ({exc.strerror})"
                            ) from None
        for stale in self.path.glob(".part-*.tmp"):  # a batch cut off mid-write
            stale.unlink()
        parts = part_files(self.path)
        if parts and not resume:
            raise SpecError("out", str(self.path), f"already holds a sweep ({len(parts)} "
                            "files); pass --resume to continue it, or choose a new path")
        for p in parts:
            schema = pq.read_schema(p)
            old = (schema.metadata or {}).get(KIND_KEY, b"").decode()
            if old and old != self.kind:
                raise SpecError("out", str(self.path), f"holds a {old} sweep; this spec is "
                                f"{self.kind}")
            for f in schema:
                self.types[f.name] = _wider(self.types.get(f.name),
                                            None if f.type == pa.null() else f.type)
            self.done.update(pq.read_table(p, columns=["cell_key"])["cell_key"].to_pylist())
        return parts

    def add(self, rows: list[dict]) -> None:
        """Buffer finished rows; write a batch when it is full or old enough."""
        self.buffer.extend(rows)
        self.done.update(r["cell_key"] for r in rows)
        if (len(self.buffer) >= BATCH_ROWS
                or time.monotonic() - self.last_write >= BATCH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one part file (atomically: temporary name, rename)."""
        self.last_write = time.monotonic()
        if not self.buffer:
            return
        for row in self.buffer:
            for key, value in row.items():
                self.types[key] = _wider(self.types.get(key), _type_of(value))
        self.buffer.sort(key=lambda r: r["cell_index"])
        self.batch += 1
        name = f"part-{self.run:04d}-{self.batch:06d}.parquet"
        _write(self._table(self.buffer), self.path / name)
        self.rows_written += len(self.buffer)
        self.buffer = []

    def _schema(self) -> pa.Schema:
        return pa.schema([(k, t or pa.null()) for k, t in self.types.items()],
                         metadata={KIND_KEY: self.kind.encode()})

    def _table(self, rows: list[dict]) -> pa.Table:
        schema = self._schema()
        return pa.Table.from_arrays(
            [pa.array([_cell(r.get(f.name), f.type) for r in rows], type=f.type)
             for f in schema], schema=schema)

    def close(self) -> None:
        """Write what is buffered, then bring every file to the final schema."""
        self.flush()
        schema = self._schema()
        for p in part_files(self.path):
            if pq.read_schema(p).remove_metadata() != schema.remove_metadata():
                _write(conform(pq.read_table(p), schema), p)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table in `schema`: missing columns as nulls, narrower ones cast up."""
    cols = []
    for f in schema:
        if f.name not in table.column_names:
            cols.append(pa.nulls(len(table), f.type))
        elif f.type == pa.string() and table.schema.field(f.name).type != pa.string():
            cols.append(pa.array([_cell(v, f.type) for v in table[f.name].to_pylist()],
                                 type=f.type))
        else:
            cols.append(table[f.name].cast(f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _write(table: pa.Table, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)


def part_files(path: str | os.PathLike) -> list[Path]:
    """The finished part files of a sweep folder, in write order."""
    return sorted(p for p in Path(path).glob("part-*.parquet") if PART.match(p.name))


def read_results(path: str | os.PathLike) -> pa.Table:
    """All rows of a sweep folder (even an interrupted one) in one schema, by cell_index."""
    parts = part_files(path)
    if not parts:
        raise SpecError("summarize", str(path), "no sweep results there (expected a folder "
                        "of part-*.parquet files written by xpuplan sweep)")
    tables = [pq.read_table(p) for p in parts]
    types: dict[str, pa.DataType | None] = {}
    for t in tables:
        for f in t.schema:
            types[f.name] = _wider(types.get(f.name), None if f.type == pa.null() else f.type)
    schema = pa.schema([(k, t or pa.null()) for k, t in types.items()])
    merged = pa.concat_tables([conform(t, schema) for t in tables])
    return merged.sort_by("cell_index")


def sweep_kind(path: str | os.PathLike) -> str:
    """The kind (train, infer, plan) recorded in a sweep folder's files."""
    meta = pq.read_schema(part_files(path)[0]).metadata or {}
    return meta.get(KIND_KEY, b"").decode()
