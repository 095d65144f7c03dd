"""Ranking metrics for recommendation: AUC against scikit-learn, sampled variants, Recall@K and NDCG@K."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from fashionsim import metrics
from fashionsim.metrics.ranking import auc, ndcg_at_k, rank_counts, rec_recall_at_k, sampled_auc


def sklearn_auc(scores: np.ndarray, positives: list, exclude: list) -> float:
    """Per-user roc_auc_score on the held-out items against every non-excluded item, averaged over users."""
    values = []
    for u, pos in enumerate(positives):
        pos = np.atleast_1d(pos)
        pos = pos[pos >= 0]
        candidates = np.setdiff1d(np.arange(scores.shape[1]), np.setdiff1d(exclude[u], pos))
        labels = np.isin(candidates, pos)
        if labels.all() or not labels.any():
            continue
        values.append(roc_auc_score(labels, scores[u, candidates]))
    return float(np.mean(values))


def random_case(seed: int, n_users: int = 9, n_items: int = 15, n_exclude: int = 4, levels: int | None = None):
    rng = np.random.default_rng(seed)
    shape = (n_users, n_items)
    scores = rng.integers(0, levels, shape).astype(float) if levels else rng.normal(size=shape)
    positives = rng.integers(0, n_items, n_users)
    exclude = []
    for u in range(n_users):
        others = np.setdiff1d(np.arange(n_items), [positives[u]])
        exclude.append(rng.choice(others, size=n_exclude, replace=False))
    return scores, positives, exclude


def test_exported_from_metrics_package():
    assert metrics.auc is auc and metrics.sampled_auc is sampled_auc
    assert {"auc", "sampled_auc", "rec_recall_at_k", "ndcg_at_k"} <= set(metrics.__all__)


def test_docstring_example():
    assert auc(np.array([[0.9, 0.1, 0.5]]), positives=[0], exclude=[[2]]) == 1.0
    assert auc(np.array([[0.3, 0.1, 0.5]]), positives=[0], exclude=None) == 0.5


@pytest.mark.parametrize("seed", range(4))
def test_auc_matches_sklearn_with_exclusions(seed):
    scores, positives, exclude = random_case(seed)
    assert auc(scores, positives, exclude) == pytest.approx(sklearn_auc(scores, positives, exclude), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_auc_matches_sklearn_without_exclusions(seed):
    scores, positives, _ = random_case(seed)
    empty = [np.empty(0, int)] * len(positives)
    assert auc(scores, positives) == pytest.approx(sklearn_auc(scores, positives, empty), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_auc_ties_count_half_as_sklearn(seed):
    scores, positives, exclude = random_case(seed, levels=3)  # many ties
    assert auc(scores, positives, exclude) == pytest.approx(sklearn_auc(scores, positives, exclude), abs=1e-12)


def test_all_tied_scores_give_one_half():
    scores = np.ones((5, 8))
    assert auc(scores, np.arange(5), [[7]] * 5) == 0.5


def test_several_held_out_items_per_user_as_sparse_matrix():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(6, 12))
    pos_lists = [rng.choice(12, size=k, replace=False) for k in (1, 2, 3, 1, 2, 4)]
    exclude = [np.setdiff1d(rng.choice(12, 3, replace=False), p) for p in pos_lists]
    rows = np.repeat(np.arange(6), [len(p) for p in pos_lists])
    positives = sp.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(pos_lists))), shape=(6, 12))
    expected = sklearn_auc(scores, pos_lists, exclude)
    assert auc(scores, positives, exclude) == pytest.approx(expected, abs=1e-12)
    assert auc(scores, pos_lists, exclude) == pytest.approx(expected, abs=1e-12)


def test_formats_and_chunks_agree():
    scores, positives, exclude = random_case(7, n_users=23, n_items=30)
    rows = np.repeat(np.arange(23), [len(e) for e in exclude])
    exclude_csr = sp.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(exclude))), shape=(23, 30))
    expected = auc(scores, positives, exclude)
    for chunk in (1, 4, 100):
        assert auc(scores, positives, exclude_csr, chunk_size=chunk) == pytest.approx(expected, abs=1e-12)
    assert auc(scores.astype(np.float32), list(positives), exclude) == pytest.approx(expected, abs=1e-12)


def test_users_without_held_out_item_or_negatives_are_left_out():
    scores = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 5.0, 1.0]])
    # user 1 has no held-out item; user 2's only candidates are excluded
    value = auc(scores, np.array([0, -1, 0]), [[], [], [1, 2]])
    assert value == 1.0
    counts = rank_counts(scores, np.array([0, -1, 0]), [[], [], [1, 2]])
    assert counts.n_users == 1


def test_broadcast_scores_are_not_copied_into_a_matrix():
    popularity = np.array([5.0, 1.0, 3.0, 0.0])
    scores = np.broadcast_to(popularity, (1000, 4))
    value = auc(scores, np.zeros(1000, dtype=int), None, chunk_size=64)
    assert value == 1.0


def test_bad_inputs_raise_clear_errors():
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="2-D"):
        auc(np.zeros(3), [0])
    with pytest.raises(ValueError, match="one per user"):
        auc(scores, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="outside"):
        auc(scores, np.array([0, 3]))
    with pytest.raises(ValueError, match="NaN"):
        auc(np.array([[np.nan, 1.0, 0.0], [0.0, 1.0, 2.0]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        auc(scores, sp.csr_matrix((3, 3)))
    with pytest.raises(ValueError, match="n_negatives"):
        sampled_auc(scores, np.array([0, 1]), n_negatives=5, seed=0)
    with pytest.raises(ValueError, match="ks"):
        rec_recall_at_k(scores, np.array([0, 1]), ks=(0,))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_users=st.integers(1, 8), n_items=st.integers(3, 12),
       levels=st.sampled_from([None, 2, 4]))
def test_auc_property_against_sklearn(seed, n_users, n_items, levels):
    scores, positives, exclude = random_case(seed, n_users, n_items, n_exclude=min(2, n_items - 2), levels=levels)
    assert auc(scores, positives, exclude) == pytest.approx(sklearn_auc(scores, positives, exclude), abs=1e-12)


# ----------------------------------------------------------------------------------- sampled variants
def test_sampled_auc_with_every_negative_equals_full_auc():
    scores, positives, exclude = random_case(11, n_items=15, n_exclude=4)
    # 15 items − 4 excluded − 1 held out = 10 negatives: sampling 10 without replacement takes them all
    assert sampled_auc(scores, positives, exclude, n_negatives=10, seed=0) == pytest.approx(
        auc(scores, positives, exclude), abs=1e-12)


def test_sampled_negatives_never_come_from_excluded_items():
    rng = np.random.default_rng(0)
    scores = np.zeros((50, 40))
    positives = rng.integers(0, 40, 50)
    scores[np.arange(50), positives] = 1.0
    exclude = [np.setdiff1d(rng.choice(40, 10, replace=False), p) for p in positives]
    for u, items in enumerate(exclude):
        scores[u, items] = 10.0  # an excluded item drawn as a negative would beat the held-out one
    for n in (1, 5, 20):
        assert sampled_auc(scores, positives, exclude, n_negatives=n, seed=n) == 1.0


def test_sampled_auc_is_seeded_and_unbiased():
    scores, positives, exclude = random_case(5, n_users=40, n_items=30, n_exclude=5)
    first = sampled_auc(scores, positives, exclude, n_negatives=1, seed=3)
    assert first == sampled_auc(scores, positives, exclude, n_negatives=1, seed=3)
    draws = [sampled_auc(scores, positives, exclude, n_negatives=1, seed=s) for s in range(300)]
    full = auc(scores, positives, exclude)
    # mean of 300 draws of a 40-user average of Bernoulli(≈AUC): standard error < 0.005
    assert abs(np.mean(draws) - full) < 0.02
    assert np.std(draws) > 0.02  # ... but each single draw is noisy


# ----------------------------------------------------------------------------------- Recall@K, NDCG@K
def brute_rank_metrics(scores, positives, exclude, k):
    recalls, ndcgs = [], []
    for u, p in enumerate(positives):
        negatives = np.setdiff1d(np.arange(scores.shape[1]), np.append(exclude[u], p))
        rank = int((scores[u, negatives] > scores[u, p]).sum())
        recalls.append(float(rank < k))
        ndcgs.append(1.0 / np.log2(rank + 2) if rank < k else 0.0)
    return np.mean(recalls), np.mean(ndcgs)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_recall_and_ndcg_match_brute_force_without_ties(k):
    scores, positives, exclude = random_case(2, n_users=20, n_items=25)
    recall, ndcg = brute_rank_metrics(scores, positives, exclude, k)
    assert rec_recall_at_k(scores, positives, exclude, ks=(k,))[k] == pytest.approx(recall)
    assert ndcg_at_k(scores, positives, exclude, ks=k)[k] == pytest.approx(ndcg)


def test_ties_are_broken_at_random_in_expectation():
    scores = np.array([[1.0, 1.0, 0.0, 2.0]])  # held-out item 0 ties with item 1, item 3 is excluded
    assert rec_recall_at_k(scores, [0], [[3]], ks=(1, 2)) == {1: 0.5, 2: 1.0}
    ndcg = ndcg_at_k(scores, [0], [[3]], ks=(1, 2))
    assert ndcg[1] == pytest.approx(0.5)
    assert ndcg[2] == pytest.approx((1.0 + 1.0 / np.log2(3)) / 2)


def test_ranking_among_sampled_candidates_is_easier():
    scores, positives, exclude = random_case(9, n_users=60, n_items=200, n_exclude=10)
    full = rank_counts(scores, positives, exclude)
    sampled = rank_counts(scores, positives, exclude, n_negatives=20, seed=0)
    assert sampled.sampled and not full.sampled
    assert (sampled.greater <= full.greater).all()
    assert sampled.recall_at_k([5])[5] > full.recall_at_k([5])[5]
