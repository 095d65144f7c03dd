"""User × item interactions as sparse matrices, and the exact vectorised BPR sampler.

Users and items are factorised once into integer codes (``Interactions.user_ids``
and ``Interactions.item_ids`` map a code back to the catalog's id), and each
split (train / val / test, per user as in DVBPR) becomes a
``scipy.sparse.csr_matrix`` of shape (n_users, n_items) with ones where the
user interacted. :class:`BPRSampler` draws triples (u, i, j) in bulk: i is a
training item of u, j is not — exactly, with no rejection loop. Taught in
notebook 04.

A catalog's log becomes matrices with ``interactions_from_catalog(cat)``; any table with
``user_id, product_id, split`` with :func:`interactions_from_frame`:

>>> log = pd.DataFrame({"user_id": ["u0", "u0", "u1", "u1", "u1"], "product_id": ["a", "b", "b", "c", "d"],
...                     "split": ["train", "test", "train", "train", "val"]})
>>> inter = interactions_from_frame(log)
>>> inter
Interactions(2 users × 4 items; train=3, val=1, test=1)
>>> u, i, j = BPRSampler(inter.train).sample(1024, seed=0)
>>> bool((inter.train[u, i] == 1).all() and (inter.train[u, j] == 0).all())
True

A purchase log with dates becomes a split by :func:`leave_last_out` (latest per
user = test, the one before = validation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashionsim._random import RandomState, as_generator

SPLITS = ("train", "val", "test")


def _binary_csr(users: np.ndarray, items: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix of ones at (users, items), duplicates merged, indices sorted within each row."""
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


@dataclasses.dataclass(frozen=True)
class Interactions:
    """Per-user train / validation / test interactions as sparse user × item matrices.

    ``user_ids[u]`` and ``item_ids[i]`` are the catalog ids of user code ``u``
    and item code ``i``; ``train``, ``val`` and ``test`` are CSR matrices of
    shape (n_users, n_items) with 1.0 where the user interacted.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def split(self, name: str) -> sp.csr_matrix:
        """The matrix of one split (``train``, ``val`` or ``test``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {name!r}")
        return getattr(self, name)

    def seen(self, *splits: str) -> sp.csr_matrix:
        """Union of the named splits (binary CSR): what to exclude when ranking another split.

        >>> log = pd.DataFrame({"user_id": ["u0", "u0", "u0"], "product_id": ["a", "b", "c"],
        ...                     "split": ["train", "val", "test"]})
        >>> inter = interactions_from_frame(log)
        >>> inter.seen("train", "val").toarray()   # what to exclude when evaluating on test
        array([[1., 1., 0.]], dtype=float32)
        """
        if not splits:
            raise ValueError("name at least one split, e.g. seen('train', 'val')")
        total = sum((self.split(s) for s in splits[1:]), self.split(splits[0]).copy())
        return _binary_csr(*total.nonzero(), shape=total.shape)

    def user_codes(self, user_ids: Sequence) -> np.ndarray:
        """Integer codes of catalog user ids; KeyError naming the unknown ones."""
        return _codes(self.user_ids, user_ids, "user_id")

    def item_codes(self, item_ids: Sequence) -> np.ndarray:
        """Integer codes of catalog product ids; KeyError naming the unknown ones."""
        return _codes(self.item_ids, item_ids, "product_id")

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={self.split(s).nnz}" for s in SPLITS)
        return f"Interactions({self.n_users} users × {self.n_items} items; {counts})"


def _codes(index_values: np.ndarray, wanted: Sequence, what: str) -> np.ndarray:
    index = pd.Index(index_values)
    wanted = list(wanted) if not isinstance(wanted, (str, bytes)) else [wanted]
    codes = index.get_indexer(wanted)
    if (codes < 0).any():
        missing = [wanted[k] for k in np.flatnonzero(codes < 0)[:5]]
        raise KeyError(f"unknown {what}(s): {missing}")
    return codes.astype(np.int64)


def interactions_from_frame(
    frame: pd.DataFrame, *, item_ids: Sequence | None = None, source: str = "interactions"
) -> Interactions:
    """Build :class:`Interactions` from a table with columns ``user_id, product_id, split``.

    ``item_ids`` fixes the item universe and its order (default: the sorted
    product ids that occur); items without any interaction are kept, so they can
    be ranked and recommended (cold start). Users are coded in sorted order of
    their ids. Repeated (user, item) rows in a split count once.
    """
    missing = [c for c in ("user_id", "product_id", "split") if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; it has {list(frame.columns)}")
    if len(frame) == 0:
        raise ValueError(f"{source}: no interactions")
    bad = ~frame["split"].isin(SPLITS).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(f"{source}: split must be one of {list(SPLITS)}; bad value(s) at row(s) {rows}")
    user_codes, user_ids = pd.factorize(frame["user_id"], sort=True)
    if item_ids is None:
        item_index = pd.Index(np.sort(frame["product_id"].unique()))
    else:
        item_index = pd.Index(list(item_ids))
        if item_index.has_duplicates:
            raise ValueError(f"{source}: item_ids has duplicates")
    item_codes = item_index.get_indexer(frame["product_id"])
    if (item_codes < 0).any():
        rows = np.flatnonzero(item_codes < 0)[:5].tolist()
        raise ValueError(f"{source}: product_id not among item_ids at row(s) {rows}")
    shape = (len(user_ids), len(item_index))
    split = frame["split"].to_numpy()
    matrices = {
        name: _binary_csr(user_codes[split == name], item_codes[split == name], shape) for name in SPLITS
    }
    return Interactions(np.asarray(user_ids), np.asarray(item_index), **matrices)


def leave_last_out(interactions: pd.DataFrame, time: str | None = None, n_test: int = 1,
                   n_val: int = 1) -> pd.DataFrame:
    """Split each user's interactions by time: the latest ``n_test`` are ``test``, the ``n_val`` before them ``val``.

    ``interactions`` has ``user_id`` and ``product_id`` (any other columns are
    kept; a ``split`` column is overwritten). ``time`` names a column to order by
    (timestamps, dates, any sortable values); ``None`` orders by row: a later row
    is a later interaction, as in a log. Ties keep row order. Each user keeps at
    least one training interaction: a user with fewer than ``n_test + n_val + 1``
    rows gives up test rows first, then validation rows (one row: train only;
    two: train and test). ``n_val=0`` makes no validation split (the trainers then
    train a fixed number of epochs). Vectorised: one sort of all rows.

    Returns a copy with the ``split`` column, rows in the input order;
    ``df.attrs["leave_last_out"]`` counts ``users``, ``train``, ``val``, ``test``
    rows and ``users_without_test``.

    >>> log = pd.DataFrame({"user_id": [1, 1, 1, 2], "product_id": ["a", "b", "c", "a"], "t": [3, 1, 2, 5]})
    >>> leave_last_out(log, time="t")["split"].tolist()
    ['test', 'train', 'val', 'train']
    """
    for name, value in (("n_test", n_test), ("n_val", n_val)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    missing = [c for c in ("user_id", "product_id") if c not in interactions.columns]
    if time is not None and time not in interactions.columns:
        missing.append(time)
    if missing:
        raise ValueError(f"interactions: missing column(s) {missing}; it has {list(interactions.columns)}")
    frame = interactions.copy()
    n = len(frame)
    users = pd.factorize(frame["user_id"])[0]
    if (users < 0).any():
        raise ValueError(f"interactions: user_id missing at row(s) {np.flatnonzero(users < 0)[:5].tolist()}")
    rows = np.arange(n)
    if time is None:
        order = np.lexsort((rows, users))
    else:
        stamps = frame[time]
        if stamps.isna().any():
            raise ValueError(f"interactions: {time!r} missing at row(s) {np.flatnonzero(stamps.isna())[:5].tolist()}")
        ranks = pd.factorize(stamps, sort=True)[0]  # any sortable values (datetimes, strings) -> ordered codes
        order = np.lexsort((rows, ranks, users))
    sorted_users = users[order]
    size = np.bincount(users)
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    from_end = (size[sorted_users] - 1) - (np.arange(n) - start[sorted_users])  # 0 = the user's latest
    room = size[sorted_users] - 1  # rows that may be held out (one stays in train)
    n_t = np.minimum(int(n_test), room)
    n_v = np.minimum(int(n_val), room - n_t)
    labels = np.where(from_end < n_t, "test", np.where(from_end < n_t + n_v, "val", "train"))
    split = np.empty(n, dtype=object)
    split[order] = labels
    frame["split"] = split
    counts = pd.Series(split).value_counts()
    frame.attrs["leave_last_out"] = {
        "users": int(len(size)), **{s: int(counts.get(s, 0)) for s in SPLITS},
        "users_without_test": int(np.count_nonzero(np.minimum(int(n_test), size - 1) == 0)),
    }
    return frame


def interactions_from_catalog(cat, *, items: str = "all") -> Interactions:
    """The catalog's interactions as sparse matrices over its products.

    ``items="all"`` ranks every product of the catalog (in the products table's
    order), so a product nobody has interacted with can still be recommended;
    ``items="interacted"`` keeps only products that occur in the interactions.
    """
    if items not in ("all", "interacted"):
        raise ValueError(f"items must be 'all' or 'interacted', got {items!r}")
    frame = cat.interactions
    if len(frame) == 0:
        raise ValueError(f"{cat.source}: the catalog has no interactions to recommend from")
    item_ids = cat.products["product_id"].to_numpy() if items == "all" else None
    return interactions_from_frame(frame, item_ids=item_ids, source=f"{cat.source}: interactions")


def popularity(train: sp.spmatrix) -> np.ndarray:
    """Number of training interactions per item, shape (n_items,), float32."""
    return np.asarray(train.sum(axis=0), dtype=np.float32).ravel()


class BPRSampler:
    """Exact, vectorised sampler of BPR triples (u, i, j) from a binary user × item CSR matrix.

    ``i`` is one of u's training items; ``j`` is uniform over the items u has
    *not* interacted with — exactly. All draws are whole arrays: j is drawn
    uniformly among all items, the pairs (u, j) that hit a training interaction
    are found at once by looking up the keys u·n_items + j (in a flat boolean
    matrix when it is small, else a vectorised hash set,
    :class:`~fashionsim.recommend._keyset.KeySet`), and only those are drawn
    again (a collision is rare: u's degree / n_items). After a few rounds any
    left (users with almost every item) are drawn without rejection: with u's
    items sorted as p_0 < p_1 < …, the r-th non-interacted item is
    r + #{m : p_m − m ≤ r}. (The reference loops in Python per triple and
    rebuilds u's item list on every draw of j.)

    ``users="uniform"`` draws users uniformly (as DVBPR), then i uniformly among
    theirs; ``users="interaction"`` draws (u, i) uniformly among the training
    interactions (as most BPR-MF code). Users without training items are never drawn.

    >>> train = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 1, 1, 1]], dtype=np.float32))
    >>> u, i, j = BPRSampler(train).sample(100_000, seed=0)    # three int64 arrays
    >>> u.dtype, len(j), bool((train[u, i] == 1).all() and (train[u, j] == 0).all())
    (dtype('int64'), 100000, True)
    """

    #: Rounds of redrawing colliding j before the remaining ones are drawn by rank.
    REDRAW_ROUNDS = 8
    #: Up to this many user × item cells, membership is a dense boolean matrix instead of a hash set.
    DENSE_MAX_CELLS = 1 << 24

    def __init__(self, train: sp.spmatrix, *, users: str = "uniform") -> None:
        from fashionsim.recommend._keyset import KeySet

        if users not in ("uniform", "interaction"):
            raise ValueError(f"users must be 'uniform' or 'interaction', got {users!r}")
        train = sp.csr_matrix(train)
        train.sum_duplicates()
        train.sort_indices()
        n_users, n_items = train.shape
        if train.nnz == 0:
            raise ValueError("train has no interactions: nothing to sample")
        degree = np.diff(train.indptr)
        full = np.flatnonzero(degree >= n_items)
        if len(full):
            raise ValueError(f"user code(s) {full[:5].tolist()} interacted with every item: no negative exists")
        self.users = users
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.indptr = train.indptr.astype(np.int64)
        self.indices = train.indices.astype(np.int64)
        self.degree = degree.astype(np.int64)
        self.active_users = np.flatnonzero(degree > 0)
        self._all_active = len(self.active_users) == n_users
        row = np.repeat(np.arange(n_users, dtype=np.int64), degree)
        self._row = row
        keys = row * self.n_items + self.indices
        # Membership of (u, j): a flat boolean matrix when it is small (one gather), else a hash set.
        if self.n_users * self.n_items <= self.DENSE_MAX_CELLS:
            self._dense = np.zeros(self.n_users * self.n_items, dtype=bool)
            self._dense[keys] = True
            self._keys = None
        else:
            self._dense = None
            self._keys = KeySet(keys)
        # p_m - m within each row: non-decreasing per row, in [0, n_items - degree).
        shifted = self.indices - (np.arange(train.nnz, dtype=np.int64) - self.indptr[row])
        self._shifted_keys = row * self.n_items + shifted

    def negatives_by_rank(self, u: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """The non-interacted item of rank floor(uniform · (n_items − degree)) of each user, no rejection."""
        u = np.asarray(u, dtype=np.int64)
        r = (np.asarray(uniforms) * (self.n_items - self.degree[u])).astype(np.int64)
        below = np.searchsorted(self._shifted_keys, u * self.n_items + r, side="right") - self.indptr[u]
        return r + below

    def negatives(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One uniformly drawn non-interacted item for each user code in ``u``."""
        u = np.asarray(u, dtype=np.int64)
        base = u * self.n_items
        j = rng.integers(0, self.n_items, size=len(u))
        redo = np.flatnonzero(self._member(base + j))
        for _ in range(self.REDRAW_ROUNDS):
            if not len(redo):
                return j
            again = rng.integers(0, self.n_items, size=len(redo))
            j[redo] = again
            redo = redo[self._member(np.take(base, redo) + again)]
        if len(redo):
            j[redo] = self.negatives_by_rank(u[redo], rng.random(len(redo)))
        return j

    def sample(self, n: int, seed: RandomState = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``n`` triples; returns int64 arrays (u, i, j), each of shape (n,)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = as_generator(seed, name="seed")
        if self.users == "uniform":
            u = rng.integers(0, len(self.active_users), size=n)
            if not self._all_active:
                u = np.take(self.active_users, u)
            offset = (rng.random(n) * np.take(self.degree, u)).astype(np.int64)
            i = np.take(self.indices, np.take(self.indptr, u) + offset)
        else:
            pos = rng.integers(0, len(self.indices), size=n)
            u, i = np.take(self._row, pos), np.take(self.indices, pos)
        return u, i, self.negatives(u, rng)

    def _member(self, keys: np.ndarray) -> np.ndarray:
        return np.take(self._dense, keys) if self._dense is not None else self._keys.contains(keys)

    def is_positive(self, u: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Boolean array: is ``items[k]`` a training item of ``u[k]``?"""
        return self._member(np.asarray(u, dtype=np.int64) * self.n_items + np.asarray(items, dtype=np.int64))
