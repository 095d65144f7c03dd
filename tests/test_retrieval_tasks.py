"""fashionsim.retrieval_tasks: the street-to-shop task of a catalog split and its recall@K for given vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fashionsim.data import Catalog, CatalogError
from fashionsim.metrics.retrieval import recall_at_k
from fashionsim.retrieval_tasks import street_to_shop_queries, street_to_shop_recall


# ------------------------------------------------------------------ street-to-shop
def with_clean(cat: Catalog, clean: dict | None = None) -> Catalog:
    images = cat.images.copy()
    images["clean"] = images["image_id"].map(clean or {}).fillna(True).astype(bool)
    return Catalog(cat.products, images, cat.interactions, root=cat.root)


def test_street_to_shop_queries_on_the_tiny_catalog(tiny_catalog):
    # test split: p4 and p5; images 0, 1 are shop and 2, 3 street
    q = street_to_shop_queries(tiny_catalog, "test")
    assert q.query_ids.tolist() == ["p4_2", "p4_3", "p5_2", "p5_3"]
    assert q.candidate_ids.tolist() == ["p4_0", "p4_1", "p5_0", "p5_1"]
    assert q.relevant == [{"p4_0", "p4_1"}] * 2 + [{"p5_0", "p5_1"}] * 2
    assert len(street_to_shop_queries(tiny_catalog, "test", gallery="all").candidate_ids) == 12
    assert len(street_to_shop_queries(tiny_catalog, None).query_ids) == 12
    with pytest.raises(ValueError, match="split must be one of"):
        street_to_shop_queries(tiny_catalog, "dev")


def test_clean_only(tiny_catalog):
    with pytest.raises(CatalogError, match="clean_only=True needs a boolean 'clean' column"):
        street_to_shop_queries(tiny_catalog, "test", clean_only=True)
    cat = with_clean(tiny_catalog, {"p4_3": False})
    assert street_to_shop_queries(cat, "test", clean_only=True).query_ids.tolist() == ["p4_2", "p5_2", "p5_3"]
    everything_occluded = with_clean(tiny_catalog, {f"p{p}_{i}": False for p in range(6) for i in (2, 3)})
    with pytest.raises(CatalogError, match="no clean street images"):
        street_to_shop_queries(everything_occluded, "test", clean_only=True)


def test_products_without_shop_images(tiny_catalog):
    images = tiny_catalog.images
    images = images[~images["image_id"].isin(["p5_0", "p5_1"])]
    cat = Catalog(tiny_catalog.products, images, root=tiny_catalog.root)
    with pytest.raises(CatalogError, match=r"product\(s\) \['p5'\] have street images but no shop image"):
        street_to_shop_queries(cat, "test")
    with pytest.warns(UserWarning, match=r"dropped 2 street queries of 1 product\(s\)"):
        q = street_to_shop_queries(cat, "test", skip_unmatched=True)
    assert q.query_ids.tolist() == ["p4_2", "p4_3"]


def tiny_vectors(cat: Catalog, noise: float, seed: int = 0):
    """One random direction per product; every image of it is that direction plus noise."""
    rng = np.random.default_rng(seed)
    product_codes, _ = pd.factorize(cat.images["product_id"])
    centers = rng.normal(size=(product_codes.max() + 1, 8))
    vectors = centers[product_codes] + noise * rng.normal(size=(len(cat.images), 8))
    return vectors, cat.images["image_id"].to_numpy()


@pytest.mark.parametrize("kind", ["exact", "annoy"])
def test_street_to_shop_recall_separates_good_from_random_embeddings(tiny_catalog, kind):
    good = street_to_shop_recall(tiny_vectors(tiny_catalog, 0.01), tiny_catalog, "test", index=kind,
                                 ks=(1, 3, 100), return_retrieved=True)
    assert good["recall"] == {1: 1.0, 3: 1.0, 100: 1.0} and good["map_at_r"] == 1.0
    assert good["n_queries"] == 4 and good["n_candidates"] == 4
    # chance with N = 4 candidates, m = 2 relevant: K = 1 -> 1/2; K = 3 > N - m -> 1
    assert good["chance"] == pytest.approx({1: 0.5, 3: 1.0, 100: 1.0})
    assert good["retrieved"][0, :2].tolist() in (["p4_0", "p4_1"], ["p4_1", "p4_0"])
    if kind == "annoy":
        assert good["annoy_recall"] == 1.0 and good["annoy_recall_k"] == 4
    else:
        assert good["annoy_recall"] is None

    rng = np.random.default_rng(1)
    vectors, ids = tiny_vectors(tiny_catalog, 0.01)
    scrambled = dict(zip(ids, rng.permutation(vectors)))        # a mapping input, the products mixed up
    bad = street_to_shop_recall(scrambled, tiny_catalog, split=None, gallery="all", index=kind, ks=(1,))
    assert bad["recall"][1] < 0.5 and bad["n_candidates"] == 12


def test_street_to_shop_recall_on_a_larger_synthetic_catalog(tmp_path):
    # 60 products, 2 shop + 3 street images each (no files needed: the catalog is only read for ids)
    rng = np.random.default_rng(0)
    products = pd.DataFrame({"product_id": [f"p{i}" for i in range(60)], "category": "dress", "color": "red",
                             "gender": "women", "description": "", "split": "test"})
    rows = [(f"p{i}_{j}", f"p{i}", f"images/p{i}_{j}.png", "shop" if j < 2 else "street")
            for i in range(60) for j in range(5)]
    images = pd.DataFrame(rows, columns=["image_id", "product_id", "path", "source"])
    cat = Catalog(products, images, root=tmp_path)
    centers = rng.normal(size=(60, 16))
    vectors = centers[np.repeat(np.arange(60), 5)] + 0.7 * rng.normal(size=(300, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = street_to_shop_recall((vectors, images["image_id"]), cat, ks=(1, 10, 100), return_retrieved=True)
    annoy = street_to_shop_recall((vectors, images["image_id"]), cat, ks=(1, 10, 100), index="annoy", n_trees=10)
    assert exact["n_queries"] == 180 and exact["n_candidates"] == 120
    assert exact["chance"][1] == pytest.approx(2 / 120)
    assert exact["chance"][1] < exact["recall"][1] < exact["recall"][10] < exact["recall"][100] == 1.0
    want = recall_at_k(exact["retrieved"], exact["relevant"], (1, 10))
    assert exact["recall"][1] == want[1] and exact["recall"][10] == want[10]
    assert 0.5 <= annoy["annoy_recall"] <= 1.0 and annoy["annoy_requeried"] == 0
    # the same ranking Annoy's recall@K is read from: top 100 asked once, Annoy's recall measured on its first 10
    searched_all = street_to_shop_recall((vectors, images["image_id"]), cat, ks=(1, 10), index="annoy",
                                         n_trees=10, search_k=10 * 120)
    assert searched_all["annoy_recall"] == 1.0 and searched_all["recall"] == {1: exact["recall"][1],
                                                                             10: exact["recall"][10]}


def test_street_to_shop_recall_refusals(tiny_catalog):
    vectors, ids = tiny_vectors(tiny_catalog, 0.1)
    with pytest.raises(ValueError, match=r"embeddings lack 1 street \(query\) image id\(s\), e.g. \['p4_2'\]"):
        street_to_shop_recall((vectors[ids != "p4_2"], ids[ids != "p4_2"]), tiny_catalog)
    with pytest.raises(ValueError, match="index must be 'exact' or 'annoy'"):
        street_to_shop_recall((vectors, ids), tiny_catalog, index="faiss")
    with pytest.raises(ValueError, match="mapping image_id -> vector or a \\(vectors, ids\\) pair"):
        street_to_shop_recall(vectors, tiny_catalog)
    with pytest.raises(ValueError, match="n == len\\(ids\\)"):
        street_to_shop_recall((vectors[:-1], ids), tiny_catalog)
    with pytest.raises(ValueError, match="duplicated image ids"):
        street_to_shop_recall((vectors, np.r_[ids[:-1], ids[:1]]), tiny_catalog)
