"""One call for the figures of a split: AUC, Recall@K and NDCG@K over all items, and their sampled variants.

The recommendation counterpart of :mod:`fashionsim.evaluation` (which
evaluates image representations on a catalog); notebook 04 builds the same
table step by step with ``fashionsim.metrics.rank_counts``.

>>> import numpy as np, scipy.sparse as sp
>>> train = sp.csr_matrix(np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
>>> test = sp.csr_matrix(np.array([[0, 1.0, 0, 0], [0, 0, 0, 1.0]]))
>>> inter = Interactions(np.array(["u0", "u1"]), np.array(["a", "b", "c", "d"]), train, train * 0, test)
>>> scores = np.array([[0.9, 0.8, 0.1, 0.2], [0.1, 0.9, 0.3, 0.2]])
>>> report = evaluate_split(scores, inter, "test", ks=(1,), n_candidates=None)
>>> report["auc"], report["recall@1"]   # user u0 ranks b over c and d, u1 ranks c over d
(0.75, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence

from fashionsim._random import RandomState
from fashionsim.metrics.ranking import rank_counts
from fashionsim.recommend.interactions import Interactions

_EXCLUDE = {"val": ("train",), "test": ("train", "val")}


def evaluate_split(
    scores,
    inter: Interactions,
    split: str = "test",
    *,
    ks: Sequence[int] = (10,),
    n_candidates: int | None = 100,
    seed: RandomState = 0,
) -> dict[str, float]:
    """Figures of merit of ``scores`` (n_users, n_items) on the held-out items of ``split``.

    Excludes the user's training items (and, for ``test``, validation items).
    Keys: ``auc``, ``recall@K``, ``ndcg@K`` over all items; ``sampled_1/auc``
    (one sampled negative, as the reference notebook) and, with
    ``n_candidates``, ``sampled_<n>/auc``, ``sampled_<n>/recall@K`` and
    ``sampled_<n>/ndcg@K`` among that many sampled negatives (the DVBPR code's
    protocol); ``users`` evaluated.
    """
    if split not in _EXCLUDE:
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    if tuple(scores.shape) != (inter.n_users, inter.n_items):
        raise ValueError(f"scores have shape {tuple(scores.shape)}, the interactions {(inter.n_users, inter.n_items)}")
    protocol = dict(positives=inter.split(split), exclude=inter.seen(*_EXCLUDE[split]))
    full = rank_counts(scores, **protocol)
    report = {"users": float(full.n_users), "auc": full.auc()}
    report.update({f"recall@{k}": v for k, v in full.recall_at_k(ks).items()})
    report.update({f"ndcg@{k}": v for k, v in full.ndcg_at_k(ks).items()})
    report["sampled_1/auc"] = rank_counts(scores, **protocol, n_negatives=1, seed=seed).auc()
    if n_candidates:
        sampled = rank_counts(scores, **protocol, n_negatives=n_candidates, seed=seed)
        report[f"sampled_{n_candidates}/auc"] = sampled.auc()
        report.update({f"sampled_{n_candidates}/recall@{k}": v for k, v in sampled.recall_at_k(ks).items()})
        report.update({f"sampled_{n_candidates}/ndcg@{k}": v for k, v in sampled.ndcg_at_k(ks).items()})
    return report
