"""Offline semi-hard negative mining for street-to-shop triplets (pure NumPy).

Each epoch of the siamese training (notebook 03) draws (street photo, shop
photo) pairs of the same product with :func:`sample_pairs`, embeds them with
the current model, and picks for every pair a negative among the *other*
pairs' shop photos with :func:`semihard_negatives`: the closest one that is
still farther from the street photo than its own shop photo (semi-hard), else
the farthest one. The whole distance matrix is computed at once (in row
chunks, so memory stays bounded) instead of one anchor at a time.

In notebook 03 the pairs come from ``sample_pairs(cat.split("train"), 700, seed=0)`` and ``a``, ``p``
are the model's embeddings of their street and shop photos; here, six pairs of three classes:

>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=(6, 4))
>>> p = a + 0.1 * rng.normal(size=(6, 4))
>>> labels = np.array([0, 0, 1, 1, 2, 2])
>>> neg, margins = semihard_negatives(a, p, labels, return_margins=True)
>>> bool((labels[neg] != labels).all()), neg.shape, margins.dtype
(True, (6,), dtype('float64'))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fashionsim._random import RandomState, as_generator

__all__ = ["sample_pairs", "semihard_negatives", "semihard_among", "DEFAULT_CHUNK_ELEMENTS"]

#: How many distance-matrix entries one chunk of rows may hold (float64: 4M entries = 32 MiB).
DEFAULT_CHUNK_ELEMENTS = 4_000_000


def _grouped(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group, with each group's start and count (argsort-grouped indices)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts, counts


def sample_pairs(cat, n: int, seed: RandomState = None) -> pd.DataFrame:
    """Draw ``n`` (street, shop) image pairs of the same product from catalog ``cat``.

    A product is drawn with probability proportional to its number of street
    images (with replacement), then one of its street images and one of its
    shop images uniformly. Products lacking either kind of photo cannot make a
    pair and are never drawn.

    Returns a DataFrame of ``n`` rows: ``product_id``, ``street`` and ``shop``
    (image ids) and ``label`` (an int per product, equal labels = same product).
    A pair needs only the product and the images' sources: products with a
    missing category, colour or description are drawn like any other.
    ``df.attrs`` reports ``products`` (in the catalog), ``excluded_products``
    (without a street or a shop image, never drawn) and ``missing_metadata``
    (products lacking ``category`` / ``color`` / ``description``; informative).

    >>> from fashionsim.data import Catalog
    >>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": "dress", "color": ["red", "blue"],
    ...                          "gender": "women", "description": "", "split": "train"})
    >>> images = pd.DataFrame({"image_id": ["i0", "i1", "i2", "i3"], "product_id": ["p0", "p0", "p1", "p1"],
    ...                        "path": ["0.png", "1.png", "2.png", "3.png"],
    ...                        "source": ["street", "shop", "street", "shop"]})
    >>> pairs = sample_pairs(Catalog(products, images), 4, seed=0)
    >>> pairs.columns.tolist()
    ['product_id', 'street', 'shop', 'label']
    >>> set(zip(pairs.street, pairs.shop)) <= {("i0", "i1"), ("i2", "i3")}
    True
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be a positive number of pairs, got {n}")
    rng = as_generator(seed, name="seed")
    images = cat.images
    codes, products = pd.factorize(images["product_id"], sort=True)
    n_products = len(products)
    is_street = (images["source"] == "street").to_numpy()
    street_rows = np.flatnonzero(is_street)
    shop_rows = np.flatnonzero(~is_street)
    street_order, street_start, street_count = _grouped(codes[street_rows], n_products)
    shop_order, shop_start, shop_count = _grouped(codes[shop_rows], n_products)

    weights = np.where(shop_count > 0, street_count, 0).astype(np.float64)
    if weights.sum() == 0:
        raise ValueError(
            f"{getattr(cat, 'source', 'catalog')}: no product has both a street and a shop image, "
            "so no (street, shop) pair can be drawn"
        )
    chosen = rng.choice(n_products, size=n, p=weights / weights.sum())
    street_pick = street_start[chosen] + np.floor(rng.random(n) * street_count[chosen]).astype(np.int64)
    shop_pick = shop_start[chosen] + np.floor(rng.random(n) * shop_count[chosen]).astype(np.int64)
    image_ids = images["image_id"].to_numpy()
    df = pd.DataFrame({
        "product_id": np.asarray(products)[chosen],
        "street": image_ids[street_rows[street_order[street_pick]]],
        "shop": image_ids[shop_rows[shop_order[shop_pick]]],
        "label": chosen.astype(np.int64),
    })
    table = getattr(cat, "products", None)
    df.attrs["products"] = n_products
    df.attrs["excluded_products"] = int(np.count_nonzero(weights == 0))
    df.attrs["missing_metadata"] = {
        c: int(_missing(table[c]).sum()) for c in ("category", "color", "description")
        if table is not None and c in table.columns}
    return df


def _missing(values: pd.Series) -> np.ndarray:
    """Missing values: None / NaN, or an empty description."""
    out = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        out |= (values.astype(str).str.strip() == "").to_numpy() & ~out
    return out


class _SameClass:
    """The (row, column) cells of a distance matrix whose two rows share a class, chunk by chunk.

    Classes are small in a mining round (a product is drawn a few times), so the
    cells are few: listing them beats a dense (rows, n) comparison of labels.
    """

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = codes
        self.order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes)
        self.starts = np.cumsum(counts) - counts
        self.group_size = counts[codes]

    def pairs(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (local row in [0, stop − start), column) of the same-class cells of rows start..stop."""
        sizes = self.group_size[start:stop]
        total = int(sizes.sum())
        local = np.repeat(np.arange(stop - start), sizes)
        offsets = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        columns = self.order[self.starts[self.codes[start:stop]][local] + offsets]
        return local, columns


def semihard_negatives(
    anchors: np.ndarray,
    positives: np.ndarray,
    labels: Sequence,
    *,
    return_margins: bool = False,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """For every pair i, the row of ``positives`` to use as its negative.

    ``anchors``, ``positives``: (n, d) arrays, row i a pair of class ``labels[i]``.
    The negative of row i is the positive j of another class closest to
    ``anchors[i]`` among those farther than ``positives[i]`` (squared L2), else
    the farthest positive of another class. Distances are computed as one
    matrix, ``chunk_elements`` entries at a time (rows chunked), in the precision
    of the inputs (float32 embeddings in float32, as a Keras model gives them;
    float64 in float64): negatives whose distances tie to within that
    precision may be swapped for one another.

    Returns ``negatives`` (n,) int64 indices into ``positives``; with
    ``return_margins`` also ``margins`` (n,) float64 = d(a, n) − d(a, p), which is
    positive for a semi-hard negative and ≤ 0 for a hard one (the fallback).

    >>> semihard_negatives(np.eye(3), np.eye(3), [0, 1, 2])
    array([1, 0, 0])
    """
    a = np.asarray(anchors)
    p = np.asarray(positives)
    if a.ndim != 2 or p.shape != a.shape:
        raise ValueError(f"anchors and positives must be two (n, d) arrays of one shape, got {a.shape} and {p.shape}")
    if a.dtype.kind not in "biuf" or p.dtype.kind not in "biuf":
        raise ValueError(f"anchors and positives must be real numbers, got dtypes {a.dtype} and {p.dtype}")
    dtype = np.result_type(a.dtype, p.dtype, np.float32)  # float32 embeddings stay float32
    a, p = a.astype(dtype, copy=False), p.astype(dtype, copy=False)
    labels = np.asarray(labels)
    if labels.shape != (len(a),):
        raise ValueError(f"labels must have one entry per row ({len(a)}), got shape {labels.shape}")
    if len(a) == 0:
        raise ValueError("anchors is empty: nothing to mine")
    if not (np.isfinite(a).all() and np.isfinite(p).all()):
        raise ValueError("anchors and positives must be finite (found NaN or inf embeddings)")
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.ravel()
    if (codes == codes[0]).all():
        raise ValueError("every row has the same label: there is no negative to mine")
    chunk_elements = int(chunk_elements)
    if chunk_elements < 1:
        raise ValueError(f"chunk_elements must be positive, got {chunk_elements}")

    n = len(a)
    d_ap = np.einsum("ij,ij->i", a - p, a - p)
    # Within row i, d(a_i, p_j) = |a_i|² + |p_j|² − 2 a_i·p_j: the first term is the same for every j,
    # so rank by score_ij = |p_j|² − 2 a_i·p_j, one matrix product of augmented arrays, and compare
    # it with d(a_i, p_i) − |a_i|².
    a_aug = np.hstack([a, np.ones((n, 1), dtype=dtype)])
    p_aug = np.hstack([-2.0 * p, np.einsum("ij,ij->i", p, p)[:, None]])
    threshold = d_ap - np.einsum("ij,ij->i", a, a)
    negatives = np.empty(n, dtype=np.int64)
    same_class = _SameClass(codes)
    rows = max(1, min(n, chunk_elements // n))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        score = a_aug[start:stop] @ p_aug.T                                   # (rows, n)
        invalid = score <= threshold[start:stop, None]                        # not farther than the positive
        same_i, same_j = same_class.pairs(start, stop)
        invalid[same_i, same_j] = True                                        # nor of the anchor's class
        hard = np.flatnonzero(invalid.all(axis=1))                            # rows without a semi-hard negative
        if len(hard):  # the farthest one of another class (hard rows are usually few: a dense label test)
            other = codes[start + hard, None] != codes[None, :]
            farthest = np.argmax(np.where(other, score[hard], -np.inf), axis=1)
        np.copyto(score, np.inf, where=invalid)
        chosen = np.argmin(score, axis=1)
        if len(hard):
            chosen[hard] = farthest
        negatives[start:stop] = chosen
    if not return_margins:
        return negatives
    diff = a - p[negatives]
    margins = np.einsum("ij,ij->i", diff, diff).astype(np.float64) - d_ap
    return negatives, margins


def semihard_among(
    anchors: np.ndarray,
    positives: np.ndarray,
    candidates: np.ndarray,
    allowed,
    *,
    return_margins: bool = False,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Semi-hard negatives chosen among the candidates a rule allows (metadata triplets, method 2).

    ``anchors``, ``positives``: (n, d), row i a triplet's query and positive;
    ``candidates``: (m, d), the pool negatives come from; ``allowed``: an (n, m)
    bool array, or a callable ``allowed(start, stop) -> (stop − start, m)`` bool
    array for rows ``start..stop`` (so the mask is never held whole). The
    negative of row i is the allowed candidate closest to ``anchors[i]`` among
    those farther than ``positives[i]`` (squared L2), else the farthest allowed
    one; −1 when row i allows none. Returns ``negatives`` (n,) int64 indices
    into ``candidates`` and, with ``return_margins``, d(a, n) − d(a, p) (NaN where −1).

    >>> semihard_among(np.eye(2), np.eye(2), np.eye(2)[::-1], np.ones((2, 2), bool))
    array([0, 1])
    """
    a, p, c = (np.asarray(x) for x in (anchors, positives, candidates))
    if a.ndim != 2 or p.shape != a.shape or c.ndim != 2 or c.shape[1] != a.shape[1]:
        raise ValueError(f"anchors and positives must be (n, d) and candidates (m, d), got {a.shape}, {p.shape} "
                         f"and {c.shape}")
    if not (np.isfinite(a).all() and np.isfinite(p).all() and np.isfinite(c).all()):
        raise ValueError("anchors, positives and candidates must be finite (found NaN or inf embeddings)")
    dtype = np.result_type(a.dtype, p.dtype, c.dtype, np.float32)
    a, p, c = a.astype(dtype, copy=False), p.astype(dtype, copy=False), c.astype(dtype, copy=False)
    n, m = len(a), len(c)
    if callable(allowed):
        mask_of = allowed
    else:
        mask = np.asarray(allowed, dtype=bool)
        if mask.shape != (n, m):
            raise ValueError(f"allowed must have shape {(n, m)}, got {mask.shape}")

        def mask_of(start: int, stop: int) -> np.ndarray:
            return mask[start:stop]

    d_ap = np.einsum("ij,ij->i", a - p, a - p)
    c_aug = np.hstack([-2.0 * c, np.einsum("ij,ij->i", c, c)[:, None]])       # score = |c|² − 2 a·c
    a_aug = np.hstack([a, np.ones((n, 1), dtype=dtype)])
    threshold = d_ap - np.einsum("ij,ij->i", a, a)
    negatives = np.full(n, -1, dtype=np.int64)
    rows = max(1, min(n, int(chunk_elements) // max(m, 1)))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        ok = np.asarray(mask_of(start, stop), dtype=bool)
        if ok.shape != (stop - start, m):
            raise ValueError(f"allowed({start}, {stop}) must return shape {(stop - start, m)}, got {ok.shape}")
        score = a_aug[start:stop] @ c_aug.T
        farthest = np.argmax(np.where(ok, score, -np.inf), axis=1)
        semihard = ok & (score > threshold[start:stop, None])
        closest = np.argmin(np.where(semihard, score, np.inf), axis=1)
        chosen = np.where(semihard.any(axis=1), closest, farthest)
        negatives[start:stop] = np.where(ok.any(axis=1), chosen, -1)
    if not return_margins:
        return negatives
    margins = np.full(n, np.nan)
    has = negatives >= 0
    diff = a[has] - c[negatives[has]]
    margins[has] = np.einsum("ij,ij->i", diff, diff).astype(np.float64) - d_ap[has]
    return negatives, margins
