"""Argument checks shared by the indexes: metric, vectors, ids, k and the Annoy seed."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

METRICS = ("angular", "euclidean")
MAX_LISTED = 5             # offending rows or ids named in an error message


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
    return metric


def listed_rows(mask: np.ndarray, offset: int = 0) -> str:
    """The first offending row numbers of a boolean mask, as text."""
    bad = np.flatnonzero(mask) + offset
    more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return ", ".join(str(int(i)) for i in bad[:MAX_LISTED]) + more


def check_vectors(vectors: Any, name: str, *, dim: int | None = None, metric: str | None = None,
                  offset: int = 0) -> np.ndarray:
    """Return ``vectors`` as a float32 (n, d) array after checking shape, finiteness and (angular) norms.

    ``offset`` is added to row numbers in error messages (rows of a batch).

    >>> check_vectors([[1, 2], [3, 4]], "vectors").dtype
    dtype('float32')
    """
    arr = np.asarray(vectors)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric (n, d) array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        hint = " (one vector? pass vectors[None])" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D (n, d) array, got shape {arr.shape}{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0 (shape {arr.shape})")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} have dimension {arr.shape[1]}, the index has dimension {dim}")
    arr = arr.astype(np.float32, copy=False)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        raise ValueError(f"{name} contain NaN or infinite values at row(s) {listed_rows(~finite, offset)}")
    if metric == "angular":
        zero = ~np.any(arr != 0, axis=1)
        if zero.any():
            raise ValueError(
                f"{name} contain all-zero vector(s) at row(s) {listed_rows(zero, offset)}: "
                "the angular metric is undefined for them"
            )
    return arr


def normalise_ids(ids: Any, n: int | None = None, *, where: str = "ids") -> np.ndarray:
    """ids as an int64 array or an object array of str; unique, no missing values.

    >>> normalise_ids(np.arange(3, dtype=np.int32)).dtype, normalise_ids(["a", "b"]).dtype
    (dtype('int64'), dtype('O'))
    """
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise ValueError(f"{where} must be a sequence of ids, got {type(ids).__name__}")
    if isinstance(ids, (pd.Series, pd.Index)):
        arr = ids.to_numpy()
    else:
        # dtype=object: np.asarray([1, "a"]) would silently turn 1 into "1"
        arr = ids if isinstance(ids, np.ndarray) else np.array(list(ids), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{where} must be 1-D, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{where} has {len(arr)} entries but there are {n} vectors")
    kind = "integer" if arr.dtype.kind in "iu" else pd.api.types.infer_dtype(arr, skipna=False)
    if kind == "integer":
        if arr.dtype.kind == "u" and len(arr) and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{where} contains integers too large for int64")
        arr = arr.astype(np.int64)
    elif kind == "string":
        arr = arr.astype(object)
    elif len(arr) == 0:
        arr = arr.astype(np.int64)
    else:
        raise ValueError(f"{where} must be all integers or all strings, found {kind!r} values")
    index = pd.Index(arr)
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:MAX_LISTED].tolist()
        raise ValueError(f"{where} must be unique; duplicated: {dup} (index image ids, then map them to products)")
    return arr


def check_k(k: Any, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be a positive int, got {k!r}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n_items:
        raise ValueError(f"k={k} is larger than the number of indexed items ({n_items})")
    return k


def check_search_k(search_k: int) -> int:
    if search_k < -1 or search_k == 0:
        raise ValueError(f"search_k must be -1 (Annoy's default) or >= 1, got {search_k}")
    return int(search_k)


def annoy_seed(seed: int | np.random.Generator | None) -> int | None:
    """Annoy's seed: an int as given, a draw from a Generator, or None (Annoy's own default).

    >>> annoy_seed(7), annoy_seed(None)
    (7, None)
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be a non-negative int, a numpy.random.Generator or None, got {seed!r}")
    return None if seed is None else int(seed)
