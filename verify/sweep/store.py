"""Result files of a sweep: append-only, crash-tolerant, read back with duplicates removed.

Two formats, chosen by the output path:

* ``*.jsonl`` (default) -- JSON Lines, one record per line, flushed and ``fsync``-ed after every
  record or batch of records (:meth:`ResultWriter.append_many`, one per finished chunk): a
  finished case is on disk before the next batch is written. A torn last line (the
  writer was killed mid-write) is ignored on read and cut off before appending.
* ``*.parquet`` -- a Parquet *dataset directory*: records are buffered and written as
  ``part-NNNNNN-<token>.parquet`` files (one row group each), every :data:`FLUSH_EVERY` records
  and at the end, each written to a temporary name and renamed into place (atomic), so a
  reader never sees a half-written part. A crash loses at most the unflushed buffer; those
  cases are recomputed on resume, never duplicated. ``pyarrow.parquet.read_table(DIR)``
  reads the directory.

Exactly once: :func:`read_results` keeps the first record of each case id (a case written
twice -- e.g. a record flushed just before a crash and recomputed after a resume that
could not see it -- still counts once).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .case import FIELDS

__all__ = ["FLUSH_EVERY", "ResultWriter", "finished_ids", "iter_records", "read_results"]

#: Records buffered per Parquet part file.
FLUSH_EVERY = 64


def _is_parquet(path: Path) -> bool:
    return path.suffix == ".parquet"


def _pyarrow() -> tuple[Any, Any]:
    """(pyarrow, pyarrow.parquet), imported on first use (pyarrow is untyped: used as Any)."""
    import importlib

    return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Every complete record in a results file, in write order (duplicates included)."""
    p = Path(path)
    if not p.exists():
        return
    if _is_parquet(p):
        _, pq = _pyarrow()
        for part in sorted(p.glob("part-*.parquet")):
            yield from pq.read_table(part).to_pylist()
        return
    with p.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # torn last line: the writer died mid-record
            yield json.loads(raw)


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """The records of a results file, one per case id (the first written wins)."""
    seen: set[str] = set()
    out = []
    for rec in iter_records(path):
        if rec["id"] not in seen:
            seen.add(rec["id"])
            out.append(rec)
    return out


def finished_ids(path: str | Path) -> set[str]:
    """Ids of the cases already recorded in ``path`` (empty if it does not exist)."""
    return {rec["id"] for rec in iter_records(path)}


class ResultWriter:
    """Append records to a results file (see the module docstring for the guarantees).

    Use as a context manager; :meth:`append` one record at a time.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._buffer: list[dict[str, Any]] = []
        self._fh: Any = None
        if _is_parquet(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            for stale in self.path.glob("*.tmp"):
                stale.unlink()  # a part whose writer died before the rename
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._truncate_torn_line()
            self._fh = self.path.open("ab")

    def _truncate_torn_line(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record (JSON Lines: durably, before returning)."""
        self.append_many([record])

    def append_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Write several records (JSON Lines: in one write and one ``fsync``, durably, before
        returning -- a chunk of cases costs one disk sync, not one per case)."""
        if not records:
            return
        if self._fh is not None:
            # non-finite floats (ulps = inf) are written as Infinity/NaN, which json reads back
            lines = [json.dumps({k: r.get(k) for k in FIELDS}, sort_keys=True) for r in records]
            self._fh.write("".join(line + "\n" for line in lines).encode())
            self._fh.flush()
            os.fsync(self._fh.fileno())
            return
        for record in records:
            self._buffer.append(dict(record))
            if len(self._buffer) >= FLUSH_EVERY:
                self.flush()

    def flush(self) -> None:
        """Write buffered records (Parquet: as one new part file, atomically)."""
        if self._fh is not None or not self._buffer:
            return
        pa, pq = _pyarrow()

        types = {str: pa.string(), int: pa.int64(), float: pa.float64()}
        schema = pa.schema([(k, types[v]) for k, v in FIELDS.items()])
        table = pa.Table.from_pylist(
            [{k: r.get(k) for k in FIELDS} for r in self._buffer], schema=schema
        )
        n = len(list(self.path.glob("part-*.parquet")))
        final = self.path / f"part-{n:06d}-{secrets.token_hex(4)}.parquet"
        tmp = final.with_suffix(".tmp")
        pq.write_table(table, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        self._buffer.clear()

    def close(self) -> None:
        """Flush and close."""
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
