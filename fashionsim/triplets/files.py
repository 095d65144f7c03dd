"""Triplet files: CSV, gzipped CSV or Parquet of image ids, written and read in chunks; image paths in a/p/n order.

>>> import tempfile
>>> from pathlib import Path
>>> triplets = pd.DataFrame({"query": ["i0", "i1"], "positive": ["i2", "i3"], "negative": ["i4", "i5"],
...                          "kind": ["same_product/in_class", "same_color/out_of_class"]})
>>> path = Path(tempfile.mkdtemp()) / "triplets.csv.gz"
>>> write_triplets([triplets.iloc[:1], triplets.iloc[1:]], path)      # chunks, written as they come
2
>>> again = read_triplets(path)
>>> again["query"].tolist(), again["kind"].dtype.name
(['i0', 'i1'], 'category')
>>> [len(chunk) for chunk in read_triplets(path, chunksize=1)]
[1, 1]

The ``tf.data`` training input built from triplets is :func:`fashionsim.triplet_data.triplet_dataset`;
:func:`interleave_paths` gives their image paths in its (q, p, n, q, p, n, ...) order.
Taught in notebooks/02_triplet_generation.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._io import atomic_path
from fashionsim.data.catalog import Catalog
from fashionsim.triplets.index import KINDS

__all__ = ["ID_COLUMNS", "FORMATS", "write_triplets", "read_triplets", "interleave_paths"]

#: The image-id columns of a triplet table.
ID_COLUMNS = ("query", "positive", "negative")
#: File suffix -> format, in the order tried.
FORMATS = ((".csv.gz", "csv.gz"), (".csv", "csv"), (".parquet", "parquet"), (".pq", "parquet"))


def _format(path: Path) -> str:
    """The file format the suffix of ``path`` names."""
    name = path.name.lower()
    for suffix, fmt in FORMATS:
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"{path}: triplet files must end in .csv, .csv.gz, .parquet or .pq")


def _columns(frame: pd.DataFrame, where: str) -> list[str]:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{where}: expected a pandas DataFrame of triplets, got {type(frame).__name__}")
    missing = [c for c in ID_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: triplets are missing column(s) {missing}; they have {list(frame.columns)}")
    return [*ID_COLUMNS, *(["kind"] if "kind" in frame.columns else [])]


def write_triplets(triplets: pd.DataFrame | Iterable[pd.DataFrame], path: str | os.PathLike) -> int:
    """Write triplets (one DataFrame, or an iterable of chunks) to ``path`` atomically; return the row count.

    The format follows the suffix: ``.csv``, ``.csv.gz`` or ``.parquet``/``.pq`` (one row group per
    chunk). Columns written: query, positive, negative and, when present, kind. Chunks are written
    as they come, so a generator of chunks never holds every triplet in memory.
    """
    path = Path(path)
    fmt = _format(path)
    chunks = [triplets] if isinstance(triplets, pd.DataFrame) else triplets
    rows = 0
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            writer, columns = None, None
            try:
                for i, chunk in enumerate(chunks):
                    cols = _columns(chunk, f"{path} chunk {i}")
                    if columns is not None and cols != columns:
                        raise ValueError(f"{path} chunk {i}: columns {cols} differ from the first chunk's {columns}")
                    frame = chunk[cols].astype({"kind": str}) if "kind" in cols else chunk[cols]
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        columns, writer = cols, pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table.cast(writer.schema))
                    rows += len(frame)
                if writer is None:  # no chunk at all: an empty file with the id columns
                    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in ID_COLUMNS}), tmp)
            finally:
                if writer is not None:
                    writer.close()
        else:
            opener = gzip.open if fmt == "csv.gz" else open
            with opener(tmp, "wt", newline="", encoding="utf-8") as handle:
                columns = None
                for i, chunk in enumerate(chunks):
                    cols = _columns(chunk, f"{path} chunk {i}")
                    if columns is not None and cols != columns:
                        raise ValueError(f"{path} chunk {i}: columns {cols} differ from the first chunk's {columns}")
                    chunk[cols].to_csv(handle, header=columns is None, index=False)
                    columns = cols
                    rows += len(chunk)
                if columns is None:
                    handle.write(",".join(ID_COLUMNS) + "\n")
    return rows


def _finish(frame: pd.DataFrame, where: str, offset: int, ids: pd.Index | None,
            values: np.ndarray | None) -> pd.DataFrame:
    cols = _columns(frame, where)
    frame = frame[cols].reset_index(drop=True)
    if ids is not None:
        for c in ID_COLUMNS:
            pos = ids.get_indexer(frame[c].astype(str))
            bad = np.flatnonzero(pos < 0)
            if len(bad):
                shown = ", ".join(f"row {offset + int(i)} ({frame[c].iat[i]!r})" for i in bad[:5])
                raise ValueError(f"{where}: {c} names image ids not in the catalog at {shown}")
            frame[c] = values[pos]
    if "kind" in cols:
        kind = frame["kind"].astype(str)
        bad = np.flatnonzero(~kind.isin(KINDS).to_numpy())
        if len(bad):
            shown = ", ".join(f"row {offset + int(i)} ({kind.iat[i]!r})" for i in bad[:5])
            raise ValueError(f"{where}: unknown kind at {shown}; expected one of {list(KINDS)}")
        frame["kind"] = pd.Categorical(kind, categories=list(KINDS))
    return frame


def _chunks(path: Path, fmt: str, chunksize: int | None) -> Iterator[pd.DataFrame]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if chunksize is None:
            yield pq.read_table(path).to_pandas()
            return
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
        return
    # CSV: ids stay strings (no "0012" -> 12); pass ``catalog`` to get the catalog's own id values back.
    reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunksize)
    if chunksize is None:
        yield reader
        return
    with reader:
        yield from reader


def read_triplets(path: str | os.PathLike, chunksize: int | None = None, *,
                  catalog: Catalog | None = None) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a triplet file written by :func:`write_triplets`.

    Returns one DataFrame, or an iterator of DataFrames of ``chunksize`` rows. ``kind`` comes back
    categorical. CSV ids are read as strings; with ``catalog`` every id is checked against it and
    returned as the catalog's own id value (an unknown id is a ValueError naming the row).
    """
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise FileNotFoundError(f"triplet file not found: {path}")
    if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
        raise ValueError(f"chunksize must be a positive int or None, got {chunksize!r}")
    ids = values = None
    if catalog is not None:
        values = catalog.images["image_id"].to_numpy()
        ids = pd.Index(catalog.images["image_id"].astype(str))

    def frames() -> Iterator[pd.DataFrame]:
        offset = 0
        for frame in _chunks(path, fmt, chunksize):
            yield _finish(frame, str(path), offset, ids, values)
            offset += len(frame)

    if chunksize is None:
        return next(frames())
    return frames()


def interleave_paths(cat: Catalog, triplets: pd.DataFrame) -> list[str]:
    """Absolute image paths ordered (q0, p0, n0, q1, p1, n1, ...): ``3 * len(triplets)`` strings."""
    _columns(triplets, "triplets")
    ids = np.stack([np.asarray(triplets[c], dtype=object) for c in ID_COLUMNS], axis=1).ravel()
    return cat.image_paths(ids)
