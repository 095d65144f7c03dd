"""Ranking metrics for recommendation: AUC, Recall@K, NDCG@K — over all items or sampled candidates.

Every metric starts from the same counts: for each (user, held-out item) pair,
how many of the user's *negatives* (items neither excluded — e.g. training
items — nor held out) score higher than the held-out item, and how many tie.
They are computed for a chunk of users at a time with array comparisons on a
block of the score matrix, so memory stays bounded and no Python loop runs
per user. Ties count ½ in AUC; in Recall@K and NDCG@K tied items are ordered
at random, and the expectation over that order is returned.

* ``auc`` — the protocol of the BPR / VBPR / DVBPR papers: per user, the
  fraction of (held-out item, every non-interacted item) pairs ordered right,
  averaged over users.
* ``sampled_auc`` — the same against ``n_negatives`` uniformly sampled
  negatives per pair (1 as in the reference notebook, 100 as in the original
  DVBPR code): an unbiased but noisier estimate of ``auc``.
* ``rec_recall_at_k`` / ``ndcg_at_k`` — the held-out item's rank among all
  negatives, or (``n_negatives=100``) among 100 sampled candidates, which is a
  far easier task: *not* comparable with the full-ranking figure.

``scores`` is any 2-D array-like indexable by an array of row numbers: a NumPy
array, a memory map, ``np.broadcast_to(popularity, shape)`` (no copy), or
``fashionsim.recommend.FactorScores`` (computes the rows of a chunk from user
and item vectors on demand). Taught in notebooks 04 and 05.

>>> auc(np.array([[0.9, 0.1, 0.5]]), positives=[0], exclude=[[2]])
1.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from fashionsim._random import RandomState, as_generator
from fashionsim.metrics.cutoffs import check_ks

__all__ = [
    "RankCounts",
    "rank_counts",
    "auc",
    "sampled_auc",
    "rec_recall_at_k",
    "ndcg_at_k",
]

_DEFAULT_BUDGET = 1 << 23  # score entries per chunk (32 MiB of float32)


def _as_pairs(items, n_users: int, n_items: int, what: str, *, allow_none: bool) -> tuple[np.ndarray, np.ndarray]:
    """(user, item) int64 arrays sorted by user, from a 1-D array (−1 = none), a sparse matrix or a list of lists."""
    if items is None:
        if allow_none:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        raise ValueError(f"{what} is required")
    if hasattr(items, "tocoo"):  # scipy sparse
        if items.shape != (n_users, n_items):
            raise ValueError(f"{what} must have shape (n_users, n_items) = {(n_users, n_items)}, got {items.shape}")
        coo = items.tocoo()
        nonzero = coo.data != 0
        users, cols = coo.row[nonzero].astype(np.int64), coo.col[nonzero].astype(np.int64)
    elif isinstance(items, np.ndarray) and items.ndim == 1 and items.dtype.kind in "iu":
        if len(items) != n_users:
            raise ValueError(f"{what} has {len(items)} entries, expected one per user ({n_users}); use -1 for none")
        users = np.flatnonzero(items >= 0).astype(np.int64)
        cols = items[users].astype(np.int64)
    else:
        rows = list(items)
        if len(rows) != n_users:
            raise ValueError(f"{what} has {len(rows)} entries, expected one per user ({n_users})")
        if rows and all(np.ndim(r) == 0 for r in rows):  # one item per user, as plain ints
            return _as_pairs(np.asarray(rows, dtype=np.int64), n_users, n_items, what, allow_none=allow_none)
        lengths = np.fromiter((np.size(r) for r in rows), dtype=np.int64, count=len(rows))
        users = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
        cols = (np.concatenate([np.ravel(np.asarray(r, dtype=np.int64)) for r in rows])
                if lengths.sum() else np.empty(0, np.int64))
    if len(cols) and (cols.min() < 0 or cols.max() >= n_items):
        bad = np.flatnonzero((cols < 0) | (cols >= n_items))[0]
        raise ValueError(f"{what}: item index {cols[bad]} of user {users[bad]} is outside [0, {n_items})")
    order = np.lexsort((cols, users))
    return users[order], cols[order]


def _row_mask(pair_users: np.ndarray, pair_items: np.ndarray, users: np.ndarray, n_items: int) -> np.ndarray:
    """Dense bool mask (len(users), n_items) of the pairs whose user is in the sorted array ``users``."""
    mask = np.zeros((len(users), n_items), dtype=bool)
    if len(pair_users):
        lo = np.searchsorted(pair_users, users[0], side="left")
        hi = np.searchsorted(pair_users, users[-1], side="right")
        sel_u, sel_i = pair_users[lo:hi], pair_items[lo:hi]
        row = np.searchsorted(users, sel_u)
        present = users[np.minimum(row, len(users) - 1)] == sel_u
        mask[row[present], sel_i[present]] = True
    return mask


@dataclasses.dataclass(frozen=True)
class RankCounts:
    """Per (user, held-out item) pair: negatives scoring higher (``greater``), equal (``ties``), and how many.

    All arrays have shape (n_pairs,). ``n_negatives`` is the size of the pair's
    negative set (all non-excluded items, or the sampled ones). ``sampled`` says
    whether the negatives were sampled.
    """

    user: np.ndarray
    item: np.ndarray
    greater: np.ndarray
    ties: np.ndarray
    n_negatives: np.ndarray
    sampled: bool = False

    def _per_user(self, values: np.ndarray) -> np.ndarray:
        """Average pair values per user (users with no valid pair are dropped); shape (n_users_evaluated,)."""
        valid = self.n_negatives > 0
        users, inverse = np.unique(self.user[valid], return_inverse=True)
        sums = np.bincount(inverse, weights=values[valid], minlength=len(users))
        counts = np.bincount(inverse, minlength=len(users))
        return sums / np.maximum(counts, 1)

    def per_pair_auc(self) -> np.ndarray:
        """Fraction of negatives ordered below each held-out item (ties ½); NaN where no negative."""
        with np.errstate(invalid="ignore", divide="ignore"):
            below = self.n_negatives - self.greater - self.ties
            return (below + 0.5 * self.ties) / self.n_negatives

    def per_user_auc(self) -> np.ndarray:
        """AUC of every evaluated user (sorted by user index)."""
        return self._per_user(np.nan_to_num(self.per_pair_auc()))

    def auc(self) -> float:
        """Mean over users of their AUC; NaN when no user could be evaluated."""
        values = self.per_user_auc()
        return float(values.mean()) if len(values) else float("nan")

    def recall_at_k(self, ks: Sequence[int]) -> dict[int, float]:
        """Expected fraction of held-out items in the top K (random order among ties), averaged over users."""
        out = {}
        for k in check_ks(ks):
            hit = np.clip(k - self.greater, 0, self.ties + 1) / (self.ties + 1)
            values = self._per_user(hit)
            out[k] = float(values.mean()) if len(values) else float("nan")
        return out

    def ndcg_at_k(self, ks: Sequence[int]) -> dict[int, float]:
        """Expected NDCG@K of one held-out item per pair (gain 1/log2(rank + 2)), averaged over users."""
        out = {}
        for k in check_ks(ks):
            cumulative = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])
            first = np.minimum(self.greater, k)
            last = np.minimum(self.greater + self.ties + 1, k)
            gain = (cumulative[last] - cumulative[first]) / (self.ties + 1)
            values = self._per_user(gain)
            out[k] = float(values.mean()) if len(values) else float("nan")
        return out

    @property
    def n_users(self) -> int:
        """Number of users with at least one evaluable pair."""
        return len(np.unique(self.user[self.n_negatives > 0]))


def rank_counts(
    scores,
    positives,
    exclude=None,
    *,
    n_negatives: int | None = None,
    seed: RandomState = None,
    chunk_size: int | None = None,
) -> RankCounts:
    """Count, for each (user, held-out item), the negatives that score higher and equal.

    Parameters
    ----------
    scores: (n_users, n_items) array-like indexable by row numbers (see the module docstring).
    positives: held-out items: a 1-D int array with one item index per user (−1 = none),
        a sparse (n_users, n_items) matrix, or one list of item indices per user.
    exclude: items that are not negatives (the user's training / validation items), same
        formats, or None. A user's held-out items are never negatives either.
    n_negatives: None → every remaining item is a negative; an int → that many negatives
        drawn uniformly without replacement per pair (``seed``; the draws depend on
        ``chunk_size`` too). ValueError when a user has fewer.
    chunk_size: users per chunk (default: as many as fit 2**23 score entries).
    """
    shape = tuple(getattr(scores, "shape", ()))
    if len(shape) != 2:
        raise ValueError(f"scores must be 2-D (n_users, n_items), got shape {shape}")
    n_users, n_items = int(shape[0]), int(shape[1])
    pos_u, pos_i = _as_pairs(positives, n_users, n_items, "positives", allow_none=False)
    exc_u, exc_i = _as_pairs(exclude, n_users, n_items, "exclude", allow_none=True)
    if n_negatives is not None and int(n_negatives) < 1:
        raise ValueError(f"n_negatives must be a positive int or None, got {n_negatives}")
    rng = as_generator(seed, name="seed") if n_negatives is not None else None
    if chunk_size is None:
        chunk_size = max(1, _DEFAULT_BUDGET // max(n_items, 1))
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    users = np.unique(pos_u)
    greater = np.zeros(len(pos_u), dtype=np.int64)
    ties = np.zeros(len(pos_u), dtype=np.int64)
    n_neg = np.zeros(len(pos_u), dtype=np.int64)
    for start in range(0, len(users), chunk_size):
        chunk = users[start:start + chunk_size]
        block = np.asarray(scores[chunk])
        if block.dtype.kind not in "fiub":
            raise ValueError(f"scores must be numeric, got dtype {block.dtype}")
        if block.shape != (len(chunk), n_items):
            raise ValueError(f"scores[rows] returned shape {block.shape}, expected {(len(chunk), n_items)}")
        if np.isnan(block).any():
            bad = chunk[np.isnan(block).any(axis=1)][:5].tolist()
            raise ValueError(f"scores contain NaN for user(s) {bad}")
        lo, hi = np.searchsorted(pos_u, chunk[0]), np.searchsorted(pos_u, chunk[-1], side="right")
        rows = np.searchsorted(chunk, pos_u[lo:hi])
        pos_scores = block[rows, pos_i[lo:hi]]
        negative = ~(_row_mask(exc_u, exc_i, chunk, n_items) | _row_mask(pos_u, pos_i, chunk, n_items))
        if n_negatives is None:
            # One pass per "k-th held-out item of each user" keeps the comparison block (users, n_items).
            slot = np.arange(hi - lo) - np.searchsorted(pos_u[lo:hi], pos_u[lo:hi])
            for s in range(int(slot.max()) + 1 if len(slot) else 0):
                sel = np.flatnonzero(slot == s)
                r, ref = rows[sel], pos_scores[sel, None]
                whole = len(r) == len(chunk)  # every user of the chunk, in order: no row copies needed
                valid, rows_block = (negative, block) if whole else (negative[r], block[r])
                greater[lo + sel] = np.count_nonzero((rows_block > ref) & valid, axis=1)
                ties[lo + sel] = np.count_nonzero((rows_block == ref) & valid, axis=1)
                n_neg[lo + sel] = np.count_nonzero(valid, axis=1)
        else:
            k = int(n_negatives)
            available = negative.sum(axis=1)
            short = np.flatnonzero(available < k)
            if len(short):
                raise ValueError(
                    f"user(s) {chunk[short][:5].tolist()} have fewer than n_negatives={k} candidate negatives "
                    f"(min {int(available.min())})"
                )
            keys = rng.random((hi - lo, n_items))
            keys[~negative[rows]] = np.inf
            drawn = np.argpartition(keys, k - 1, axis=1)[:, :k]  # k distinct valid items, uniformly
            sampled = np.take_along_axis(block[rows], drawn, axis=1)
            greater[lo:hi] = (sampled > pos_scores[:, None]).sum(axis=1)
            ties[lo:hi] = (sampled == pos_scores[:, None]).sum(axis=1)
            n_neg[lo:hi] = k
    return RankCounts(pos_u, pos_i, greater, ties, n_neg, sampled=n_negatives is not None)


def auc(scores, positives, exclude=None, *, chunk_size: int | None = None) -> float:
    """AUC over all items: per user, the fraction of (held-out, negative) pairs ordered right, averaged over users.

    Negatives are every item not in ``exclude`` (the user's training, and for the
    test split validation, items) and not held out; ties count ½. Users without a
    held-out item or without any negative are left out. Equal, per user, to
    ``sklearn.metrics.roc_auc_score`` on the held-out items against the negatives.

    scores: (n_users, n_items); positives: per-user held-out item index (1-D int
    array, −1 = none) or a sparse matrix / list of lists; exclude: the same formats.

    >>> auc(np.array([[0.9, 0.1, 0.5]]), positives=[0], exclude=[[2]])
    1.0
    """
    return rank_counts(scores, positives, exclude, chunk_size=chunk_size).auc()


def sampled_auc(
    scores, positives, exclude=None, *, n_negatives: int = 1, seed: RandomState = None,
    chunk_size: int | None = None,
) -> float:
    """SAMPLED AUC: like :func:`auc` but against ``n_negatives`` uniformly drawn negatives per held-out item.

    ``n_negatives=1`` is the reference notebook's protocol, ``100`` the original
    DVBPR code's. Unbiased for :func:`auc` but noisier (say "sampled" when you report it).
    """
    return rank_counts(scores, positives, exclude, n_negatives=n_negatives, seed=seed, chunk_size=chunk_size).auc()


def rec_recall_at_k(
    scores, positives, exclude=None, ks: Sequence[int] | int = (10,), *, n_negatives: int | None = None,
    seed: RandomState = None, chunk_size: int | None = None,
) -> dict[int, float]:
    """Recommendation Recall@K: expected fraction of held-out items ranked in the top K, averaged over users.

    With ``n_negatives=None`` the held-out item is ranked among *all* the user's
    negatives; with ``n_negatives=100`` among 100 sampled candidates (the DVBPR
    code's protocol, far easier — label it as sampled). Ties are broken at random
    (the expectation is returned). Not the retrieval ``recall_at_k`` of
    ``metrics.retrieval``.
    """
    counts = rank_counts(scores, positives, exclude, n_negatives=n_negatives, seed=seed, chunk_size=chunk_size)
    return counts.recall_at_k(ks)


def ndcg_at_k(
    scores, positives, exclude=None, ks: Sequence[int] | int = (10,), *, n_negatives: int | None = None,
    seed: RandomState = None, chunk_size: int | None = None,
) -> dict[int, float]:
    """NDCG@K with one relevant (held-out) item per pair: 1 / log2(rank + 2) when rank < K, else 0.

    Averaged over a user's held-out items, then over users; ``n_negatives`` as in
    :func:`rec_recall_at_k`.
    """
    counts = rank_counts(scores, positives, exclude, n_negatives=n_negatives, seed=seed, chunk_size=chunk_size)
    return counts.ndcg_at_k(ks)
