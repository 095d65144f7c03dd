"""Offline semi-hard mining against the per-anchor reference loop; pair sampling rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fashionsim import mining
from fashionsim.bench.references import reference_semihard_negatives
from fashionsim.data import Catalog


def random_pairs(rng, n, d, n_classes):
    labels = rng.integers(0, n_classes, size=n)
    a = rng.normal(size=(n, d))
    p = a + 0.8 * rng.normal(size=(n, d))
    return a, p, labels


@pytest.mark.parametrize("seed", range(8))
def test_semihard_matches_reference_loop(seed):
    rng = np.random.default_rng(seed)
    a, p, labels = random_pairs(rng, 60, 8, 12)
    expected, expected_margins = reference_semihard_negatives(a, p, labels)
    got, margins = mining.semihard_negatives(a, p, labels, return_margins=True)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(margins, expected_margins, rtol=1e-9, atol=1e-12)


def test_semihard_chunked_equals_whole():
    rng = np.random.default_rng(1)
    a, p, labels = random_pairs(rng, 203, 5, 30)
    whole = mining.semihard_negatives(a, p, labels)
    for chunk in (1, 203, 1000, 7 * 203):
        np.testing.assert_array_equal(mining.semihard_negatives(a, p, labels, chunk_elements=chunk), whole)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 40), n_classes=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_semihard_properties(n, n_classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n)
    labels[:2] = [0, 1]  # at least two classes
    a, p = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    neg, margins = mining.semihard_negatives(a, p, labels, return_margins=True)
    assert (labels[neg] != labels).all()                       # a negative has another label
    d_ap = ((a - p) ** 2).sum(1)
    d = ((a[:, None] - p[None]) ** 2).sum(-1)
    np.testing.assert_allclose(margins, d[np.arange(n), neg] - d_ap, atol=1e-9)
    other = labels[None, :] != labels[:, None]
    for i in range(n):
        farther = other[i] & (d[i] > d_ap[i] + 1e-9)
        if farther.any():  # semi-hard: the closest of those farther than the positive
            assert margins[i] > -1e-9
            assert d[i, neg[i]] <= d[i][farther].min() + 1e-9
        else:              # otherwise the farthest one of another class
            assert d[i, neg[i]] >= d[i][other[i]].max() - 1e-9


def test_semihard_known_answer():
    a = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    p = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 12.0]])
    # Row 0: d(a,p)=1; other positives at 101 and 144: both farther, the closest is row 1.
    # Row 1: d(a,p)=1; others at 81 and 244 -> row 0. Row 2: d(a,p)=4; others at 101 and 181 -> row 0.
    neg, margins = mining.semihard_negatives(a, p, [0, 1, 2], return_margins=True)
    np.testing.assert_array_equal(neg, [1, 0, 0])
    np.testing.assert_allclose(margins, [101.0 - 1.0, 81.0 - 1.0, 101.0 - 4.0])
    # A hard case: the positive is farther than every negative -> the farthest negative.
    a = np.array([[0.0], [1.0], [2.0]])
    p = np.array([[9.0], [1.5], [2.5]])
    neg, margins = mining.semihard_negatives(a, p, [0, 1, 2], return_margins=True)
    assert neg[0] == 2 and margins[0] == pytest.approx(2.5**2 - 81.0)


def test_semihard_refuses_bad_input():
    a = np.zeros((3, 2))
    with pytest.raises(ValueError, match="same label"):
        mining.semihard_negatives(a, a, [1, 1, 1])
    with pytest.raises(ValueError, match="one shape"):
        mining.semihard_negatives(a, np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="one entry per row"):
        mining.semihard_negatives(a, a, [0, 1])
    with pytest.raises(ValueError, match="finite"):
        mining.semihard_negatives(np.full((3, 2), np.nan), a, [0, 1, 2])


# ---------------------------------------------------------------- pair sampling
def test_sample_pairs_rules(tiny_catalog):
    pairs = mining.sample_pairs(tiny_catalog, 500, seed=3)
    assert list(pairs.columns) == ["product_id", "street", "shop", "label"] and len(pairs) == 500
    img = tiny_catalog.images.set_index("image_id")
    assert (img.loc[pairs.street, "source"].to_numpy() == "street").all()
    assert (img.loc[pairs.shop, "source"].to_numpy() == "shop").all()
    assert (img.loc[pairs.street, "product_id"].to_numpy() == pairs.product_id.to_numpy()).all()
    assert (img.loc[pairs.shop, "product_id"].to_numpy() == pairs.product_id.to_numpy()).all()
    # one label per product
    assert (pairs.groupby("label").product_id.nunique() == 1).all()
    assert (pairs.groupby("product_id").label.nunique() == 1).all()
    # same seed, same draws; another seed, other draws
    pd.testing.assert_frame_equal(pairs, mining.sample_pairs(tiny_catalog, 500, seed=3))
    assert not pairs.equals(mining.sample_pairs(tiny_catalog, 500, seed=4))


def _catalog_with_street_counts(tmp_path, street_counts):
    products, images = [], []
    for i, k in enumerate(street_counts):
        pid = f"p{i}"
        products.append(dict(product_id=pid, category="c", color="red", gender="x", description="", split="train"))
        images.append(dict(image_id=f"{pid}_shop", product_id=pid, path=f"{pid}_shop.png", source="shop"))
        images += [dict(image_id=f"{pid}_st{j}", product_id=pid, path=f"{pid}_st{j}.png", source="street")
                   for j in range(k)]
    return Catalog(pd.DataFrame(products), pd.DataFrame(images), root=tmp_path)


def test_sample_pairs_proportional_to_street_images(tmp_path):
    cat = _catalog_with_street_counts(tmp_path, [1, 3, 6, 0])
    pairs = mining.sample_pairs(cat, 20_000, seed=0)
    freq = pairs.product_id.value_counts(normalize=True)
    assert "p3" not in freq.index  # no street image: never drawn
    assert freq["p0"] == pytest.approx(0.1, abs=0.01)
    assert freq["p1"] == pytest.approx(0.3, abs=0.015)
    assert freq["p2"] == pytest.approx(0.6, abs=0.015)
    street_freq = pairs.loc[pairs.product_id == "p2", "street"].value_counts(normalize=True)
    assert len(street_freq) == 6 and street_freq.max() - street_freq.min() < 0.03


def test_sample_pairs_refuses_impossible_catalogs(tmp_path):
    with pytest.raises(ValueError, match="no product has both"):
        mining.sample_pairs(_catalog_with_street_counts(tmp_path, [0, 0]), 5, seed=0)
    with pytest.raises(ValueError, match="positive number"):
        mining.sample_pairs(_catalog_with_street_counts(tmp_path, [1, 1]), 0, seed=0)


def test_benchmark_quick_run_agrees_with_the_reference():
    from fashionsim.bench import mining as bench

    (row,) = bench.run(quick=True)
    assert row.extra["differing_negatives"] == 0 and row.reference_s > 0 and row.ours_s > 0
