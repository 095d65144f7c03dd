"""fashionsim.metrics.retrieval: hand computations, a plain-loop reference, the chance level."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fashionsim import metrics
from fashionsim.metrics import retrieval
from fashionsim.metrics.retrieval import (
    chance_recall_at_k,
    first_hit_rank,
    map_at_r,
    precision_at_k,
    r_precision,
    recall_at_k,
)


# ------------------------------------------------------------------ hand-made rankings
def test_recall_on_a_hand_made_ranking():
    retrieved = [["a", "b", "c", "d"],
                 ["d", "c", "b", "a"],
                 ["x", "y", "z", "a"]]
    relevant = [{"a"}, {"c", "a"}, {"q"}]
    # query 0 hits at rank 1; query 1 at rank 2 (c); query 2 never
    assert recall_at_k(retrieved, relevant, ks=(1, 2, 3, 4)) == {1: 1 / 3, 2: 2 / 3, 3: 2 / 3, 4: 2 / 3}
    assert first_hit_rank(retrieved, relevant).tolist() == [0, 1, -1]
    assert metrics.recall_at_k([[1, 2, 3]], [{3}], ks=(1, 3)) == {1: 0.0, 3: 1.0}   # DESIGN.md example
    assert recall_at_k(np.array([[5, 6]]), [[6]], ks=2) == {2: 1.0}                 # int K, list as a set


def test_precision_r_precision_and_map_at_r_by_hand():
    retrieved = [[1, 9, 2, 3, 8],
                 [7, 8, 9, 1, 2]]
    relevant = [{1, 2, 3}, {8}]
    # query 0: relevant at ranks 1, 3, 4 (R = 3); query 1: relevant at rank 2 (R = 1)
    assert precision_at_k(retrieved, relevant, ks=(1, 2, 5)) == {
        1: (1 + 0) / 2, 2: (1 / 2 + 1 / 2) / 2, 5: (3 / 5 + 1 / 5) / 2}
    assert r_precision(retrieved, relevant) == pytest.approx((2 / 3 + 0) / 2)
    # AP@R, query 0: (1/3) * (P@1 + P@3) = (1/3) * (1 + 2/3) = 5/9 (rank 4 lies beyond R); query 1: 0
    assert map_at_r(retrieved, relevant) == pytest.approx((5 / 9 + 0) / 2)


def test_map_at_r_known_example():
    # Musgrave et al. (2020) illustrate mAP@R with R = 10 relevant items; take relevant at
    # ranks 1, 2, 4, 7 of the first 10: AP@R = (1/1 + 2/2 + 3/4 + 4/7) / 10.
    ranking = [[f"r{i}" if i in (0, 1, 3, 6) else f"n{i}" for i in range(12)]]
    relevant = [{f"r{i}" for i in range(10)}]
    assert map_at_r(ranking, relevant) == pytest.approx((1 + 1 + 3 / 4 + 4 / 7) / 10)
    perfect = [[f"r{i}" for i in range(10)] + ["n0"]]
    assert map_at_r(perfect, relevant) == 1.0 and r_precision(perfect, relevant) == 1.0


def loop_reference(retrieved, relevant, ks):
    """Straightforward per-query loops, the definitions written out."""
    recall, precision = {}, {}
    for k in ks:
        recall[k] = np.mean([len(set(row[:k]) & rel) > 0 for row, rel in zip(retrieved, relevant)])
        precision[k] = np.mean([sum(x in rel for x in row[:k]) / k for row, rel in zip(retrieved, relevant)])
    ap, rp = [], []
    for row, rel in zip(retrieved, relevant):
        r = len(rel)
        hits = [x in rel for x in row[:r]]
        rp.append(sum(hits) / r)
        ap.append(sum(sum(hits[: i + 1]) / (i + 1) for i in range(r) if hits[i]) / r)
    return recall, precision, float(np.mean(rp)), float(np.mean(ap))


@pytest.mark.parametrize("as_strings", [False, True])
def test_agreement_with_a_plain_loop_on_random_rankings(as_strings):
    rng = np.random.default_rng(5)
    n_queries, n_items, width = 300, 60, 20
    retrieved = np.array([rng.permutation(n_items)[:width] for _ in range(n_queries)])
    relevant = [set(rng.choice(n_items, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(n_queries)]
    if as_strings:
        retrieved = np.char.add("id", retrieved.astype(str)).astype(object)
        relevant = [{f"id{x}" for x in rel} for rel in relevant]
    ks = (1, 3, 5, 10, 20)
    want_recall, want_precision, want_rp, want_map = loop_reference(retrieved.tolist(), relevant, ks)
    got = recall_at_k(retrieved, relevant, ks)
    assert got == pytest.approx(want_recall) and 0 < got[1] < got[20] < 1
    assert precision_at_k(retrieved, relevant, ks) == pytest.approx(want_precision)
    assert r_precision(retrieved, relevant) == pytest.approx(want_rp)
    assert map_at_r(retrieved, relevant) == pytest.approx(want_map)


def test_mixed_id_types_are_compared_by_value():
    assert recall_at_k(np.array([[1, 2], [3, 4]]), [{np.int64(2)}, {"x", 3}], ks=(1, 2)) == {1: 0.5, 2: 1.0}


# ------------------------------------------------------------------ errors
def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="ragged"):
        recall_at_k([[1, 2], [3]], [{1}, {3}], ks=(1,))
    with pytest.raises(ValueError, match="2 ids per query, fewer than the 5 needed"):
        recall_at_k([[1, 2]], [{1}], ks=(1, 5))
    with pytest.raises(ValueError, match=r"empty for query\(ies\) \[1\]"):
        recall_at_k([[1, 2], [3, 4]], [{1}, set()], ks=(1,))
    with pytest.raises(ValueError, match="relevant has 1 entries but retrieved has 2 queries"):
        recall_at_k([[1, 2], [3, 4]], [{1}], ks=(1,))
    with pytest.raises(ValueError, match="not a string"):
        recall_at_k([["a", "b"]], ["a"], ks=(1,))
    with pytest.raises(ValueError, match="collection of ids"):
        recall_at_k([[1, 2]], [1], ks=(1,))
    with pytest.raises(ValueError, match="positive int"):
        recall_at_k([[1, 2]], [{1}], ks=(0,))
    with pytest.raises(ValueError, match="ks is empty"):
        recall_at_k([[1, 2]], [{1}], ks=())
    with pytest.raises(ValueError, match="2-D"):
        recall_at_k([1, 2], [{1}, {2}], ks=(1,))
    with pytest.raises(ValueError, match="missing ids"):
        recall_at_k(np.array([["a", None]], dtype=object), [{"a"}], ks=(1,))
    with pytest.raises(ValueError, match="repeats an id"):
        precision_at_k([[1, 1, 2]], [{1}], ks=(3,))
    with pytest.raises(ValueError, match="mAP@R needs R = 3"):
        map_at_r([[1, 2]], [{1, 2, 3}])


# ------------------------------------------------------------------ chance level
def test_chance_level_against_a_brute_force_count():
    for n, m in [(6, 1), (6, 2), (7, 3), (5, 5)]:
        relevant = set(range(m))
        for k in range(1, n + 2):
            subsets = list(itertools.combinations(range(n), min(k, n)))
            want = sum(bool(relevant & set(s)) for s in subsets) / len(subsets)
            assert chance_recall_at_k(n, m, ks=(k,))[k] == pytest.approx(want, abs=1e-12), (n, m, k)


def test_chance_level_against_monte_carlo_and_mixed_queries():
    rng = np.random.default_rng(0)
    n_candidates = np.array([40, 40, 90, 90, 90])
    n_relevant = np.array([1, 3, 2, 2, 6])
    ks = (1, 5, 10, 30)
    trials = 20000
    estimate = {k: 0.0 for k in ks}
    for n, m in zip(n_candidates, n_relevant):
        ranks = rng.permuted(np.tile(np.arange(n), (trials, 1)), axis=1)   # random rankings
        first = (ranks < m).argmax(axis=1)                                # items 0..m-1 are the relevant ones
        for k in ks:
            estimate[k] += np.mean(first < k) / len(n_candidates)
    exact = chance_recall_at_k(n_candidates, n_relevant, ks)
    for k in ks:
        assert exact[k] == pytest.approx(estimate[k], abs=0.01)
    assert exact[1] == pytest.approx(np.mean(n_relevant / n_candidates))


@pytest.mark.parametrize("chunk", [1024, 3])   # 3 sums the product terms over many chunks
def test_chance_level_against_exact_binomials_at_larger_n(monkeypatch, chunk):
    from fractions import Fraction

    monkeypatch.setattr(retrieval, "_CHANCE_CHUNK", chunk)
    n_candidates, n_relevant, ks = np.array([100, 1000, 50, 3, 5000]), np.array([2, 7, 20, 1, 40]), (1, 3, 10, 49, 200)
    got = chance_recall_at_k(n_candidates, n_relevant, ks)
    for k in ks:
        want = np.mean([float(1 - Fraction(math.comb(n - m, min(k, n)), math.comb(n, min(k, n))))
                        for n, m in zip(n_candidates.tolist(), n_relevant.tolist())])
        assert got[k] == pytest.approx(want, rel=1e-12)
    assert chance_recall_at_k(10**7, 1, ks=(1,))[1] == pytest.approx(1e-7, rel=1e-9)
    assert chance_recall_at_k(10**7, 3, ks=(5,))[5] == pytest.approx(1 - math.comb(10**7 - 3, 5) / math.comb(10**7, 5),
                                                                      rel=1e-9)


def test_chance_level_refusals():
    with pytest.raises(ValueError, match=r"\[1, n_candidates\]; query 1 has 5 of 4"):
        chance_recall_at_k([4, 4], [1, 5], ks=(1,))
    with pytest.raises(ValueError, match="n_candidates must be >= 1"):
        chance_recall_at_k(0, 1, ks=(1,))
    with pytest.raises(ValueError, match="integers"):
        chance_recall_at_k(10.5, 1, ks=(1,))


def test_no_python_loop_per_query_is_needed_for_large_inputs():
    """Scale check (not a timing assertion): 20,000 queries x 100 ids run through the vectorised path."""
    rng = np.random.default_rng(0)
    retrieved = rng.integers(0, 50_000, size=(20_000, 100))
    relevant = [{int(x)} for x in retrieved[:, 7]]
    assert recall_at_k(retrieved, relevant, ks=(1, 7, 8))[8] == 1.0
    assert math.isclose(precision_at_k(np.argsort(rng.random((200, 100)), axis=1), [{0}] * 200, ks=(100,))[100], 0.01)
