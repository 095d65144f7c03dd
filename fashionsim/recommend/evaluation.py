"""One call for the figures of a split: AUC, Recall@K and NDCG@K over all items, and their sampled variants.

Used by notebook 05 and the command line; notebook 04 builds the same table
step by step with ``fashionsim.metrics.rank_counts``.

>>> report = evaluate_split(result.scores(), inter, split="test")      # doctest: +SKIP
>>> report["auc"], report["recall@10"], report["sampled_100/recall@10"]  # doctest: +SKIP
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
