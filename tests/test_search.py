"""search_products: query photos -> the k closest products, one entry per product, streamed over the queries."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionsim.index import EmbeddingIndex, ExactIndex
from fashionsim.search import product_keys, search_products, unique_products


@pytest.fixture(scope="module")
def mean_colour():
    """A 'model' whose vector is an image's mean colour: distances are known without training."""
    import keras

    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()], name="mean_colour")


@pytest.fixture(scope="module")
def queries(tmp_path_factory):
    folder = tmp_path_factory.mktemp("queries")
    colours = {"red": (250, 10, 10), "green": (10, 240, 10), "blue": (10, 10, 230), "grey": (128, 128, 128)}
    paths = []
    for name, rgb in colours.items():
        Image.new("RGB", (8, 8), rgb).save(folder / f"{name}.png")
        paths.append(str(folder / f"{name}.png"))
    return paths


def _gallery(seed=0, n_products=30, per_product=6):
    """Unit-cube colour vectors, several images per product (a product's images sit close together)."""
    rng = np.random.default_rng(seed)
    centres = rng.random((n_products, 3))
    vectors = (np.repeat(centres, per_product, axis=0) + rng.normal(0, 0.01, (n_products * per_product, 3)))
    ids = np.array([f"p{p}_{k}" for p in range(n_products) for k in range(per_product)], dtype=object)
    products = {i: i.split("_")[0] for i in ids}
    return vectors.astype(np.float32), ids, products


def _brute_force(query, vectors, ids, products, k):
    """Every product's closest image by exact distance, the k best: the definition, one query at a time."""
    d = np.sqrt(((vectors - query) ** 2).sum(axis=1))
    best = {}
    for image, dist in zip(ids, d):
        p = products[image]
        if p not in best or dist < best[p][1]:
            best[p] = (image, dist)
    ranked = sorted(best.items(), key=lambda kv: kv[1][1])[:k]
    return [p for p, _ in ranked], [v[0] for _, v in ranked]


@pytest.mark.parametrize("k", [1, 5, 12])
def test_products_equal_the_brute_force_definition(mean_colour, queries, k):
    vectors, ids, products = _gallery()
    index = ExactIndex.build(vectors, ids, "euclidean")
    found = search_products(mean_colour, index, queries, k=k, products=products, batch_size=3)
    assert [f.query for f in found] == queries  # one result per query, in order, across batches
    q = mean_colour.predict(np.stack([np.asarray(Image.open(p), np.float32) / 255 for p in queries]), verbose=0)
    for f, vector in zip(found, q):
        want_products, want_images = _brute_force(vector, vectors, ids, products, k)
        assert f.product_ids.tolist() == want_products and f.image_ids.tolist() == want_images
        assert len(set(f.product_ids)) == len(f) == k and np.all(np.diff(f.distances) >= 0)


def test_many_images_per_product_search_deeper(mean_colour, queries):
    """60 images per product: the first search (4 images per wanted product) names too few products."""
    vectors, ids, products = _gallery(n_products=10, per_product=60)
    index = ExactIndex.build(vectors, ids, "euclidean")
    found = search_products(mean_colour, index, queries, k=5, products=products)
    assert all(len(f) == 5 and len(set(f.product_ids)) == 5 for f in found)


def test_fewer_products_than_k_and_no_product_map(mean_colour, queries):
    vectors, ids, products = _gallery(n_products=3, per_product=4)
    index = ExactIndex.build(vectors, ids, "euclidean")
    found = search_products(mean_colour, index, queries[:1], k=10, products=products)
    assert sorted(found[0].product_ids) == ["p0", "p1", "p2"]
    alone = search_products(mean_colour, index, queries[:1], k=10)  # without products: every image counts
    assert len(alone[0]) == 10 and list(alone[0].product_ids) == [None] * 10
    assert alone[0].records()[0].keys() == {"product_id", "image_id", "distance"}


def test_annoy_index_gives_the_exact_answer_on_a_small_gallery(mean_colour, queries):
    vectors, ids, products = _gallery()
    exact = search_products(mean_colour, ExactIndex.build(vectors, ids, "euclidean"), queries, k=5, products=products)
    annoy = search_products(mean_colour, EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=20, seed=0),
                            queries, k=5, products=products, search_k=10_000)
    assert [f.product_ids.tolist() for f in annoy] == [f.product_ids.tolist() for f in exact]


def test_refusals_name_the_problem(mean_colour, queries, tmp_path):
    vectors, ids, products = _gallery()
    index = ExactIndex.build(vectors, ids, "euclidean")
    with pytest.raises(ValueError, match="k must be a positive int"):
        search_products(mean_colour, index, queries, k=0)
    with pytest.raises(ValueError, match="image_paths is empty"):
        search_products(mean_colour, index, [], k=3)
    with pytest.raises(ValueError, match="batch_size"):
        search_products(mean_colour, index, queries, k=3, batch_size=0)
    wide = ExactIndex.build(np.zeros((4, 5), np.float32), ["a", "b", "c", "d"], "euclidean")
    with pytest.raises(ValueError, match="3-dimensional vectors, the index holds 5"):
        search_products(mean_colour, wide, queries, k=3)
    with pytest.raises(ValueError, match="more than one product"):
        product_keys(np.array(["a"]), __import__("pandas").Series(["A", "B"], index=["a", "a"]))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    from fashionsim.images import ImageDecodeError

    with pytest.raises(ImageDecodeError, match="broken.png"):
        search_products(mean_colour, index, [str(broken)], k=3)


def test_unique_products_keeps_the_first_image_of_each_product():
    keep, found = unique_products(np.array([[2, 2, 0, 1, 0], [5, 5, 5, 5, 5]]), k=2)
    assert keep.astype(int).tolist() == [[1, 0, 1, 0, 0], [1, 0, 0, 0, 0]] and found.tolist() == [3, 1]
