"""The JSON metadata file saved beside every index (``<path>.json``): written, read and checked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim._io import write_text_atomic
from fashionsim.index._checks import METRICS, normalise_ids

FORMAT = "fashionsim.index"
FORMAT_VERSION = 1
_REQUIRED = ("kind", "dim", "metric", "ids", "fingerprint", "n_items")


def metadata_path(path: str | os.PathLike) -> Path:
    """The metadata file saved beside an index: ``<path>.json`` (``shop.ann`` -> ``shop.ann.json``).

    >>> metadata_path("artifacts/shop.ann").name
    'shop.ann.json'
    """
    return Path(f"{os.fspath(path)}.json")


def write_metadata(path: Path, *, kind: str, dim: int, metric: str, ids: np.ndarray, fingerprint: str | None,
                   **extra: Any) -> None:
    """Write ``<path>.json`` atomically, after the index file itself (its size is recorded)."""
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "kind": kind, "dim": int(dim), "metric": metric,
            "n_items": len(ids), **extra, "fingerprint": fingerprint, "file_bytes": path.stat().st_size,
            "ids": ids.tolist()}
    write_text_atomic(metadata_path(path), json.dumps(meta))


def read_kind(path: Path) -> str | None:
    """The ``kind`` recorded beside an index file, with the errors of a missing or unreadable file."""
    meta_file = metadata_path(path)
    if not meta_file.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"index file not found: {path}")
        raise FileNotFoundError(f"index metadata not found: {meta_file} (saved beside {path.name} by .save)")
    try:
        return json.loads(meta_file.read_text(encoding="utf-8")).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise ValueError(f"index metadata {meta_file} is not valid JSON metadata: {exc}") from exc


def read_metadata(path: Path, kind: str) -> dict:
    """The checked metadata of an index file of ``kind``; errors name the file and what is wrong."""
    meta_file = metadata_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"index file not found: {path}")
    if not meta_file.is_file():
        raise FileNotFoundError(f"index metadata not found: {meta_file} (saved beside {path.name} by .save)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"index metadata {meta_file} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{meta_file} is not fashionsim index metadata (no 'format': {FORMAT!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_file} has format version {meta.get('version')!r}; this fashionsim reads {FORMAT_VERSION}"
        )
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"{meta_file} lacks key(s) {missing}")
    if meta["kind"] != kind:
        raise ValueError(f"{path} holds a {meta['kind']!r} index, not {kind!r}; use fashionsim.index.load")
    if meta["metric"] not in METRICS:
        raise ValueError(f"{meta_file}: unknown metric {meta['metric']!r}")
    if len(meta["ids"]) != meta["n_items"]:
        raise ValueError(f"{meta_file}: {len(meta['ids'])} ids for {meta['n_items']} items")
    return meta


def ids_from_metadata(meta: dict, path: Path) -> np.ndarray:
    values = meta["ids"]
    where = f"ids in {metadata_path(path)}"
    return normalise_ids(np.array(values, dtype=object) if values else np.array([], dtype=np.int64), where=where)


def check_expected(meta: dict, path: Path, fingerprint: str | None, dim: int | None) -> None:
    """Refuse an index made from another model's vectors (``fingerprint``) or of another dimension."""
    if fingerprint is not None and meta["fingerprint"] != fingerprint:
        made_by = meta["fingerprint"] or "no recorded model"
        raise ValueError(
            f"index {path} was built from vectors of model {made_by}, not of the model given ({fingerprint}); "
            "re-embed and rebuild the index"
        )
    if dim is not None and int(meta["dim"]) != int(dim):
        raise ValueError(f"index {path} holds {meta['dim']}-dimensional vectors, expected {dim}")
