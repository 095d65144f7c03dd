"""Label precision of nearest neighbours: does an embedding put like next to like?

For a catalog with one photo per product there is no street photo to find its
shop photo; what an embedding can be judged by is whether a photo's nearest
neighbours share its metadata (same category; same category and colour).
Taught in notebook 02, used by ``train_siamese(..., triplets="metadata")``.

>>> v = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
>>> label_precision_at_k(v, ["a", "a", "b", "b"], ks=(1,))
{1: 1.0}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["label_precision_at_k"]


def label_precision_at_k(vectors: np.ndarray, labels: Sequence, ks: Iterable[int] = (1, 5, 10), *,
                         chunk_rows: int = 1024) -> dict[int, float]:
    """Mean fraction of each row's ``k`` nearest other rows (cosine) that share its label.

    ``vectors``: (n, d); ``labels``: n labels, missing values (None / NaN) allowed:
    a row without a label is not a query and never counts as sharing one.
    Exact search over all rows but the query itself, ``chunk_rows`` queries at a time.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"vectors must be an (n, d) array with n >= 2, got shape {x.shape}")
    codes, _ = pd.factorize(pd.Series(list(labels), dtype=object))
    if len(codes) != len(x):
        raise ValueError(f"labels has {len(codes)} entries but vectors has {len(x)} rows")
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1 or ks[-1] > len(x) - 1:
        raise ValueError(f"ks must lie in 1..{len(x) - 1}, got {ks}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = x / np.where(norms > 0, norms, 1.0)
    queries = np.flatnonzero(codes >= 0)
    if len(queries) == 0:
        raise ValueError("no row has a label: nothing to measure")
    kmax = ks[-1]
    shared = np.empty((len(queries), kmax), dtype=bool)
    for start in range(0, len(queries), chunk_rows):
        rows = queries[start:start + chunk_rows]
        sim = unit[rows] @ unit.T
        sim[np.arange(len(rows)), rows] = -np.inf                      # never the query itself
        top = np.argpartition(-sim, kmax - 1, axis=1)[:, :kmax]
        order = np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        shared[start:start + len(rows)] = codes[top] == codes[rows, None]
    return {k: float(shared[:, :k].mean()) for k in ks}
