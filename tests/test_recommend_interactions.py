"""Interactions as sparse matrices, and the exact vectorised BPR sampler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fashionsim.recommend import (
    BPRSampler,
    interactions_from_catalog,
    interactions_from_frame,
    popularity,
    popularity_scores,
)


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "product_id", "split"])


def test_from_frame_codes_splits_and_duplicates():
    inter = interactions_from_frame(frame([
        ("bob", "b", "train"), ("bob", "b", "train"), ("bob", "c", "test"), ("ann", "a", "train"),
        ("ann", "c", "val"), ("ann", "b", "test"),
    ]), item_ids=["a", "b", "c", "d"])
    assert list(inter.user_ids) == ["ann", "bob"] and list(inter.item_ids) == ["a", "b", "c", "d"]
    assert inter.train.shape == (2, 4) and isinstance(inter.train, sp.csr_matrix)
    np.testing.assert_array_equal(inter.train.toarray(), [[1, 0, 0, 0], [0, 1, 0, 0]])  # duplicate counted once
    np.testing.assert_array_equal(inter.val.toarray(), [[0, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(inter.test.toarray(), [[0, 1, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(inter.seen("train", "val").toarray(), [[1, 0, 1, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(inter.user_codes(["bob", "ann"]), [1, 0])
    with pytest.raises(KeyError, match="zed"):
        inter.item_codes(["a", "zed"])
    np.testing.assert_array_equal(popularity(inter.train), [1, 1, 0, 0])
    assert popularity_scores(inter.train).shape == (2, 4)


def test_from_frame_errors_name_the_problem():
    with pytest.raises(ValueError, match="missing column"):
        interactions_from_frame(pd.DataFrame({"user_id": ["u"], "product_id": ["p"]}))
    with pytest.raises(ValueError, match="row"):
        interactions_from_frame(frame([("u", "p", "train"), ("u", "q", "holdout")]))
    with pytest.raises(ValueError, match="not among item_ids"):
        interactions_from_frame(frame([("u", "p", "train"), ("u", "q", "test")]), item_ids=["p"])
    with pytest.raises(ValueError, match="no interactions"):
        interactions_from_frame(frame([]))


def test_from_catalog_keeps_every_product(tiny_catalog):
    inter = interactions_from_catalog(tiny_catalog)
    assert inter.n_users == 4 and inter.n_items == 6
    assert list(inter.item_ids) == list(tiny_catalog.products["product_id"])
    assert inter.train.nnz == 8 and inter.val.nnz == 4 and inter.test.nnz == 4
    with pytest.raises(ValueError, match="items"):
        interactions_from_catalog(tiny_catalog, items="some")


def random_train(seed: int, n_users: int = 50, n_items: int = 40, max_degree: int = 30) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(n_users):
        degree = rng.integers(0, max_degree + 1)
        rows += [u] * degree
        cols += list(rng.choice(n_items, degree, replace=False))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))


@pytest.mark.parametrize("users", ["uniform", "interaction"])
def test_sampler_i_in_train_and_j_never(users):
    train = random_train(0)
    dense = train.toarray() > 0
    u, i, j = BPRSampler(train, users=users).sample(20_000, seed=1)
    assert dense[u, i].all()
    assert not dense[u, j].any()
    assert (j >= 0).all() and (j < train.shape[1]).all()
    assert set(np.unique(u)) <= set(np.flatnonzero(dense.any(axis=1)))  # users without items never drawn


def test_sampler_is_seeded():
    sampler = BPRSampler(random_train(1))
    a, b = sampler.sample(500, seed=7), sampler.sample(500, seed=7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = sampler.sample(500, seed=8)
    assert not np.array_equal(a[2], c[2])
    gen = np.random.default_rng(3)
    first = sampler.sample(10, seed=gen)
    assert not np.array_equal(first[2], sampler.sample(10, seed=gen)[2])  # a Generator's stream advances


def test_negative_rank_mapping_is_exact():
    train = random_train(2, n_users=12, n_items=17, max_degree=16)
    sampler = BPRSampler(train)
    dense = train.toarray() > 0
    for u in range(12):
        allowed = np.flatnonzero(~dense[u])
        r = np.arange(len(allowed))
        got = sampler.negatives_by_rank(np.full(len(r), u), (r + 0.5) / len(allowed))
        np.testing.assert_array_equal(got, allowed)  # the r-th non-interacted item, for every r


def test_dense_users_fall_back_to_rank_draws():
    # user 0 has 99 of 100 items: almost every uniform draw collides; the only negative is item 37
    dense = np.ones((2, 100), dtype=int)
    dense[0, 37] = 0
    dense[1, 50:] = 0
    train = sp.csr_matrix(dense)
    u, _, j = BPRSampler(train).sample(2_000, seed=0)
    assert (j[u == 0] == 37).all()
    assert not (train.toarray()[u, j] > 0).any()


def test_negatives_are_uniform_over_non_interacted_items():
    train = sp.csr_matrix(np.array([[1, 0, 1, 0, 0, 1, 0, 0]]))
    _, _, j = BPRSampler(train).sample(40_000, seed=0)
    counts = np.bincount(j, minlength=8)
    assert (counts[[0, 2, 5]] == 0).all()
    expected = 40_000 / 5
    assert np.abs(counts[[1, 3, 4, 6, 7]] - expected).max() < 5 * np.sqrt(expected)


def test_user_modes_weight_users_differently():
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [1, 1, 1, 0]]))
    u_uniform = BPRSampler(train, users="uniform").sample(20_000, seed=0)[0]
    u_inter = BPRSampler(train, users="interaction").sample(20_000, seed=0)[0]
    assert abs((u_uniform == 0).mean() - 0.5) < 0.02
    assert abs((u_inter == 0).mean() - 0.25) < 0.02


def test_sampler_refuses_impossible_inputs():
    with pytest.raises(ValueError, match="every item"):
        BPRSampler(sp.csr_matrix(np.array([[1, 1], [1, 0]])))
    with pytest.raises(ValueError, match="no interactions"):
        BPRSampler(sp.csr_matrix((3, 4)))
    with pytest.raises(ValueError, match="users"):
        BPRSampler(sp.csr_matrix(np.eye(3)), users="everyone")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_users=st.integers(1, 20), n_items=st.integers(2, 30))
def test_sampler_property(seed, n_users, n_items):
    train = random_train(seed, n_users, n_items, max_degree=n_items - 1)
    if train.nnz == 0:
        return
    dense = train.toarray() > 0
    sampler = BPRSampler(train)
    u, i, j = sampler.sample(300, seed=seed)
    assert dense[u, i].all() and not dense[u, j].any()
    assert sampler.is_positive(u, i).all() and not sampler.is_positive(u, j).any()


def test_keyset_membership_matches_isin():
    from fashionsim.recommend._keyset import KeySet

    rng = np.random.default_rng(0)
    keys = rng.integers(0, 10**12, 5_000)
    keyset = KeySet(np.concatenate([keys, keys[:10]]))  # duplicates are fine
    queries = np.concatenate([keys, rng.integers(0, 10**12, 5_000), np.arange(50)])
    np.testing.assert_array_equal(keyset.contains(queries), np.isin(queries, keys))
    assert len(keyset) == len(np.unique(keys))
    assert not KeySet(np.empty(0, np.int64)).contains(np.arange(10)).any()
    crowded = KeySet(np.arange(0, 4096))  # consecutive keys: long probe runs
    np.testing.assert_array_equal(crowded.contains(np.arange(-0, 8192)), np.arange(8192) < 4096)
    with pytest.raises(ValueError, match="non-negative"):
        KeySet(np.array([-1, 2]))
