"""fashionsim.index: Annoy and exact search, persistence, refusals, and Annoy's recall against exact search."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from fashionsim import index
from fashionsim.index import EmbeddingIndex, ExactIndex, annoy_recall, build_from_batches


def clustered(n: int, d: int = 32, clusters: int = 30, seed: int = 0, spread: float = 0.3) -> np.ndarray:
    """Points around ``clusters`` Gaussian centres (the centres fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, d))
    labels = rng.integers(clusters, size=n)
    return (centers[labels] + spread * rng.normal(size=(n, d))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    points = clustered(1100)
    return points[:1000], points[1000:], np.array([f"img{i:04d}" for i in range(1000)], dtype=object)


def brute_force(vectors, queries, k, metric):
    """A plain per-query loop: the exact answer written the obvious way, in float64."""
    vectors, queries = vectors.astype(np.float64), queries.astype(np.float64)
    if metric == "angular":
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    out_pos, out_dist = [], []
    for q in queries:
        dist = np.array([np.linalg.norm(q - v) for v in vectors])
        order = np.argsort(dist, kind="stable")[:k]
        out_pos.append(order)
        out_dist.append(dist[order])
    return np.array(out_pos), np.array(out_dist)


# ------------------------------------------------------------------ exact search
@pytest.mark.parametrize("metric", ["euclidean", "angular"])
@pytest.mark.parametrize("chunk_mib", [64.0, 0.01])   # 0.01 MiB forces many small query chunks
def test_exact_search_matches_brute_force_loop(data, metric, chunk_mib):
    vectors, queries, ids = data
    exact = ExactIndex.build(vectors, ids, metric=metric, max_chunk_mib=chunk_mib)
    got_ids, got_dist = exact.query(queries[:40], k=7)
    want_pos, want_dist = brute_force(vectors, queries[:40], 7, metric)
    assert got_ids.shape == (40, 7) and got_dist.dtype == np.float32
    np.testing.assert_array_equal(got_ids, ids[want_pos])
    np.testing.assert_allclose(got_dist, want_dist, rtol=1e-5, atol=1e-6)


def test_exact_search_k_equal_n_ranks_everything():
    rng = np.random.default_rng(3)
    vectors, queries = rng.normal(size=(12, 5)), rng.normal(size=(4, 5))
    got, dist = ExactIndex.build(vectors, np.arange(12), "euclidean").query(queries, k=12)
    want, want_dist = brute_force(vectors, queries, 12, "euclidean")
    np.testing.assert_array_equal(got, want)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_exact_ties_break_by_position():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    got, dist = ExactIndex.build(vectors, ["a", "b", "c", "d"], "euclidean").query([[1.0, 0.0]], k=3)
    assert got.tolist() == [["a", "c", "b"]]
    np.testing.assert_allclose(dist, [[0.0, 0.0, np.sqrt(2)]], atol=1e-7)


# ------------------------------------------------------------------ Annoy
@pytest.mark.parametrize("metric", ["euclidean", "angular"])
def test_annoy_distances_are_annoys_definitions(data, metric):
    vectors, queries, ids = data
    idx = EmbeddingIndex.build(vectors, ids, metric=metric, n_trees=10, seed=0)
    got_ids, got_dist = idx.query(queries[:20], k=5)
    pos = np.searchsorted(ids, got_ids)    # ids are sorted strings
    v = vectors[pos].astype(np.float64)
    q = queries[:20, None, :].astype(np.float64)
    if metric == "angular":
        cos = (v * q).sum(-1) / (np.linalg.norm(v, axis=-1) * np.linalg.norm(q, axis=-1))
        want = np.sqrt(2 - 2 * cos)
    else:
        want = np.linalg.norm(v - q, axis=-1)
    np.testing.assert_allclose(got_dist, want, rtol=1e-4, atol=1e-5)
    assert (np.diff(got_dist, axis=1) >= -1e-6).all()


def test_angular_exact_distance_is_sqrt_two_minus_two_cos():
    a = np.array([[1.0, 0.0], [0.0, 3.0], [-2.0, 0.0], [1.0, 1.0]])
    ids, dist = ExactIndex.build(a, [0, 1, 2, 3], "angular").query([[5.0, 0.0]], k=4)
    assert ids.tolist() == [[0, 3, 1, 2]]
    np.testing.assert_allclose(dist[0], np.sqrt(2 - 2 * np.array([1.0, np.sqrt(0.5), 0.0, -1.0])), atol=1e-6)


def test_annoy_recall_on_clustered_data_and_exact_when_searching_everything(data):
    vectors, queries, ids = data
    exact = ExactIndex.build(vectors, ids, metric="euclidean")
    forest = EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=20, seed=0)
    # Measured 0.97 for 20 trees on this easy clustered data; 1 tree inspecting 10 items is far worse.
    assert annoy_recall(forest, exact, queries, k=10) >= 0.9
    assert annoy_recall(forest, exact, queries, k=10, search_k=20 * len(vectors)) == 1.0
    poor = EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=1, seed=0)
    assert annoy_recall(poor, exact, queries, k=10, search_k=10) < 0.8


def test_annoy_recall_refuses_different_indexes(data):
    vectors, _, ids = data
    forest = EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=2)
    with pytest.raises(ValueError, match="same ids"):
        annoy_recall(forest, ExactIndex.build(vectors[:10], ids[:10], "euclidean"), vectors[:3])
    with pytest.raises(ValueError, match=r"depth \(5\) must be >= k \(10\)"):
        annoy_recall(forest, ExactIndex.build(vectors, ids, "euclidean"), vectors[:3], k=10, depth=5)
    with pytest.raises(ValueError, match="metrics differ"):
        annoy_recall(forest, ExactIndex.build(vectors, ids, "angular"), vectors[:3])


def test_seeded_builds_repeat(data, tmp_path):
    vectors, queries, ids = data
    first = EmbeddingIndex.build(vectors, ids, metric="angular", n_trees=8, seed=7)
    second = EmbeddingIndex.build(vectors, ids, metric="angular", n_trees=8, seed=7)
    a_ids, a_dist = first.query(queries, k=10, search_k=30)
    b_ids, b_dist = second.query(queries, k=10, search_k=30)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_array_equal(a_dist, b_dist)
    first.save(tmp_path / "a.ann")
    second.save(tmp_path / "b.ann")
    assert (tmp_path / "a.ann").read_bytes() == (tmp_path / "b.ann").read_bytes()
    other = EmbeddingIndex.build(vectors, ids, metric="angular", n_trees=8, seed=8)
    other.save(tmp_path / "c.ann")
    assert (tmp_path / "c.ann").read_bytes() != (tmp_path / "a.ann").read_bytes()


def test_short_annoy_answers_are_requeried(data):
    vectors, queries, ids = data
    forest = EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=2, seed=0)
    got, dist = forest.query(queries[:10], k=60, search_k=1)   # one leaf holds fewer than 60 items
    assert got.shape == (10, 60) and forest.last_requeried_ == 10
    assert all(len(set(row)) == 60 for row in got.tolist())


# ------------------------------------------------------------------ persistence
@pytest.mark.parametrize("cls, name", [(EmbeddingIndex, "shop.ann"), (ExactIndex, "shop.npy")])
def test_save_load_round_trip(data, tmp_path, cls, name):
    vectors, queries, ids = data
    kwargs = {"n_trees": 10, "seed": 0} if cls is EmbeddingIndex else {}
    built = cls.build(vectors, ids, "euclidean", fingerprint="abc123", **kwargs)
    before = built.query(queries, k=10)
    path = built.save(tmp_path / "sub" / name)
    meta = json.loads(index.metadata_path(path).read_text())
    assert meta["dim"] == 32 and meta["metric"] == "euclidean" and meta["fingerprint"] == "abc123"
    assert meta["version"] == index.FORMAT_VERSION and meta["ids"][:2] == ["img0000", "img0001"]
    assert sorted(os.listdir(tmp_path / "sub")) == sorted([name, name + ".json"])   # no temp files left
    loaded = cls.load(path, fingerprint="abc123", dim=32)
    after = loaded.query(queries, k=10)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert loaded.get_config() == built.get_config()
    assert type(index.load(path)) is cls


def test_integer_ids_survive_a_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(30, 4))
    ids = np.arange(100, 130, dtype=np.int32)
    built = EmbeddingIndex.build(vectors, ids, "euclidean", n_trees=3)
    built.save(tmp_path / "i.ann")
    got, _ = EmbeddingIndex.load(tmp_path / "i.ann").query(vectors[:3], k=1)
    assert got.dtype == np.int64 and got[:, 0].tolist() == [100, 101, 102]


def test_load_refuses_another_model_or_dimension(data, tmp_path):
    vectors, _, ids = data
    path = EmbeddingIndex.build(vectors, ids, "angular", n_trees=2, fingerprint="model-a").save(tmp_path / "x.ann")
    with pytest.raises(ValueError, match=r"x\.ann.*model-a.*model-b"):
        EmbeddingIndex.load(path, fingerprint="model-b")
    with pytest.raises(ValueError, match=r"x\.ann holds 32-dimensional vectors, expected 128"):
        EmbeddingIndex.load(path, dim=128)
    unknown = EmbeddingIndex.build(vectors, ids, "angular", n_trees=2).save(tmp_path / "y.ann")
    with pytest.raises(ValueError, match="no recorded model"):
        EmbeddingIndex.load(unknown, fingerprint="model-a")
    exact = ExactIndex.build(vectors, ids, "angular", fingerprint="model-a").save(tmp_path / "x.npy")
    with pytest.raises(ValueError, match=r"x\.npy.*model-b"):
        ExactIndex.load(exact, fingerprint="model-b")
    with pytest.raises(ValueError, match="not 'annoy'"):
        EmbeddingIndex.load(exact)


def test_missing_and_corrupt_files_give_clear_errors(data, tmp_path):
    vectors, _, ids = data
    with pytest.raises(FileNotFoundError, match="nothere.ann"):
        EmbeddingIndex.load(tmp_path / "nothere.ann")
    with pytest.raises(FileNotFoundError, match="nothere.ann"):
        index.load(tmp_path / "nothere.ann")
    path = EmbeddingIndex.build(vectors, ids, "euclidean", n_trees=2).save(tmp_path / "x.ann")
    meta = index.metadata_path(path)
    good_meta = meta.read_text()

    meta.unlink()
    with pytest.raises(FileNotFoundError, match=r"x\.ann\.json"):
        EmbeddingIndex.load(path)
    meta.write_text("{not json")
    with pytest.raises(ValueError, match=r"x\.ann\.json is not valid JSON"):
        EmbeddingIndex.load(path)
    meta.write_text(good_meta)

    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2 + 3])          # truncated
    with pytest.raises(ValueError, match=r"x\.ann"):
        EmbeddingIndex.load(path)
    path.write_bytes(b"\x00" * 37)                                 # garbage, size no longer matches either
    with pytest.raises(ValueError, match=r"x\.ann"):
        EmbeddingIndex.load(path)
    stale = json.loads(good_meta)
    stale.pop("file_bytes")                                        # old metadata: Annoy's own check must catch it
    meta.write_text(json.dumps(stale))
    with pytest.raises(ValueError, match=r"x\.ann is corrupt"):
        EmbeddingIndex.load(path)


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("cls", [EmbeddingIndex, ExactIndex])
def test_bad_arguments_are_refused(cls):
    rng = np.random.default_rng(0)
    vectors, ids = rng.normal(size=(10, 4)), [f"i{j}" for j in range(10)]
    with pytest.raises(ValueError, match="metric must be one of"):
        cls.build(vectors, ids, metric="cosine")
    with pytest.raises(ValueError, match="empty"):
        cls.build(np.zeros((0, 4)), [], "euclidean")
    with pytest.raises(ValueError, match="2-D"):
        cls.build(vectors[0], ids[:1], "euclidean")
    with pytest.raises(ValueError, match="ids has 9 entries but there are 10 vectors"):
        cls.build(vectors, ids[:9], "euclidean")
    with pytest.raises(ValueError, match="unique.*'i1'"):
        cls.build(vectors, ["i0", "i1", "i1", *ids[3:]], "euclidean")
    with pytest.raises(ValueError, match="all integers or all strings"):
        cls.build(vectors, [1, "a", *ids[2:]], "euclidean")
    with pytest.raises(ValueError, match="all integers or all strings"):
        cls.build(vectors, [None, *ids[1:]], "euclidean")
    bad = vectors.copy()
    bad[3, 1] = np.nan
    bad[7, 0] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite values at row\(s\) 3, 7"):
        cls.build(bad, ids, "euclidean")
    zero = vectors.copy()
    zero[2] = 0
    with pytest.raises(ValueError, match=r"all-zero vector\(s\) at row\(s\) 2"):
        cls.build(zero, ids, "angular")
    built = cls.build(vectors, ids, "euclidean")
    with pytest.raises(ValueError, match="k=11 is larger than the number of indexed items \\(10\\)"):
        built.query(vectors, k=11)
    with pytest.raises(ValueError, match="k must be >= 1"):
        built.query(vectors, k=0)
    with pytest.raises(ValueError, match="dimension 5, the index has dimension 4"):
        built.query(rng.normal(size=(2, 5)), k=1)
    with pytest.raises(ValueError, match=r"one vector\? pass vectors\[None\]"):
        built.query(vectors[0], k=1)
    with pytest.raises(ValueError, match="NaN"):
        built.query(bad, k=1)
    with pytest.raises(ValueError, match="empty"):
        built.query(np.zeros((0, 4)), k=1)


def test_annoy_specific_arguments():
    vectors = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match="n_trees must be a positive int"):
        EmbeddingIndex.build(vectors, range(10), "euclidean", n_trees=0)
    with pytest.raises(ValueError, match="search_k"):
        EmbeddingIndex.build(vectors, range(10), "euclidean", search_k=0)
    with pytest.raises(ValueError, match="seed"):
        EmbeddingIndex.build(vectors, range(10), "euclidean", seed=-1)
    with pytest.raises(ValueError, match="search_k applies to Annoy only"):
        ExactIndex.build(vectors, range(10), "euclidean").query(vectors, k=1, search_k=5)


# ------------------------------------------------------------------ streamed builds
def test_build_from_batches_equals_build(data, tmp_path):
    vectors, queries, ids = data
    whole = EmbeddingIndex.build(vectors, ids, "angular", n_trees=6, seed=3)
    streamed = build_from_batches(((vectors[s:s + 128], ids[s:s + 128]) for s in range(0, 1000, 128)),
                                  metric="angular", n_trees=6, seed=3)
    np.testing.assert_array_equal(whole.query(queries, k=5)[0], streamed.query(queries, k=5)[0])
    np.testing.assert_array_equal(streamed.ids, ids)


def test_on_disk_build_from_a_memmap(data, tmp_path):
    vectors, queries, ids = data
    np.save(tmp_path / "emb.npy", vectors)
    mm = np.load(tmp_path / "emb.npy", mmap_mode="r")
    in_ram = EmbeddingIndex.build(vectors, ids, "euclidean", n_trees=5, seed=1)
    on_disk = EmbeddingIndex.build(mm, ids, "euclidean", n_trees=5, seed=1, on_disk_path=tmp_path / "build.ann")
    path = on_disk.save(tmp_path / "final.ann")
    loaded = EmbeddingIndex.load(path)
    np.testing.assert_array_equal(in_ram.query(queries, k=5)[0], loaded.query(queries, k=5)[0])


def test_build_from_batches_refusals(data):
    vectors, _, ids = data
    with pytest.raises(ValueError, match="no vectors"):
        build_from_batches(iter([]))
    with pytest.raises(ValueError, match="unique"):
        build_from_batches([(vectors[:5], ids[:5]), (vectors[5:10], ids[:5])], metric="euclidean")
    with pytest.raises(ValueError, match="batch 1"):
        build_from_batches([(vectors[:5], ids[:5]), (vectors[5:10, :3], ids[5:10])], metric="euclidean")
    with pytest.raises(ValueError, match="ids of batch 0 has 4 entries"):
        build_from_batches([(vectors[:5], ids[:4])], metric="euclidean")


@pytest.mark.parametrize("on_disk", [False, True])
def test_build_from_chunks_equals_build(data, tmp_path, on_disk):
    vectors, queries, ids = data
    whole = EmbeddingIndex.build(vectors, ids, "angular", n_trees=6, seed=3)
    bounds = [0, 100, 100, 437, 999, 1000]                    # uneven chunks, one of them empty
    chunks = ((vectors[a:b], ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
    disk = tmp_path / "building" / "forest.ann" if on_disk else None
    streamed = EmbeddingIndex.build_from_chunks(chunks, dim=32, n_trees=6, seed=3, fingerprint="m1", on_disk=disk)
    want_ids, want_dist = whole.query(queries, k=10)
    got_ids, got_dist = streamed.query(queries, k=10)
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_dist, want_dist)
    np.testing.assert_array_equal(streamed.ids, ids)
    assert streamed.fingerprint == "m1" and streamed.get_config()["n_items"] == 1000
    if on_disk:
        assert disk.stat().st_size > 0                       # the forest was built in that file
    loaded = EmbeddingIndex.load(streamed.save(tmp_path / "final.ann"), fingerprint="m1")
    np.testing.assert_array_equal(loaded.query(queries, k=10)[0], want_ids)


def test_build_from_chunks_keeps_integer_ids_and_refuses_bad_chunks(data):
    vectors, queries, _ = data
    chunks = [(vectors[:500], np.arange(500, dtype=np.int32)), (vectors[500:], range(500, 1000))]
    streamed = EmbeddingIndex.build_from_chunks(iter(chunks), dim=32, metric="euclidean", n_trees=4, seed=1)
    whole = EmbeddingIndex.build(vectors, np.arange(1000), "euclidean", n_trees=4, seed=1)
    assert streamed.ids.dtype == np.int64
    np.testing.assert_array_equal(streamed.query(queries, k=3)[0], whole.query(queries, k=3)[0])
    with pytest.raises(ValueError, match="chunk 1 have dimension 3, the index has dimension 32"):
        EmbeddingIndex.build_from_chunks([(vectors[:5], range(5)), (vectors[5:10, :3], range(5, 10))], dim=32)
    with pytest.raises(ValueError, match="chunk 0 have dimension 32, the index has dimension 8"):
        EmbeddingIndex.build_from_chunks([(vectors[:5], range(5))], dim=8)
    with pytest.raises(ValueError, match="no vectors to index: every chunk was empty"):
        EmbeddingIndex.build_from_chunks([(vectors[:0], [])], dim=32)
    with pytest.raises(ValueError, match="unique"):
        EmbeddingIndex.build_from_chunks([(vectors[:5], range(5)), (vectors[5:10], range(5))], dim=32)
    with pytest.raises(ValueError, match="ids of chunk 0 has 4 entries"):
        EmbeddingIndex.build_from_chunks([(vectors[:5], range(4))], dim=32)
    with pytest.raises(ValueError, match="dim must be a positive int"):
        EmbeddingIndex.build_from_chunks([(vectors[:5], range(5))], dim=0)


# ------------------------------------------------------------------ the protocol and its result
@pytest.mark.parametrize("cls", [EmbeddingIndex, ExactIndex])
def test_search_returns_neighbours_that_query_unpacks(data, cls):
    vectors, queries, ids = data
    built = cls.build(vectors, ids, "euclidean")
    assert isinstance(built, index.SearchIndex)
    found = built.search(queries[:6], k=4)
    assert isinstance(found, index.Neighbours) and len(found) == 6 and found.k == 4
    assert found.positions.dtype == np.int64 and found.distances.dtype == np.float32
    np.testing.assert_array_equal(found.ids, ids[found.positions])
    got_ids, got_dist = built.query(queries[:6], k=4)
    np.testing.assert_array_equal(got_ids, found.ids)
    np.testing.assert_array_equal(got_dist, found.distances)
    assert found.n_requeried == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.n_requeried = 3


def test_requeried_count_is_returned_not_left_on_the_index(data):
    vectors, queries, ids = data
    forest = EmbeddingIndex.build(vectors, ids, metric="euclidean", n_trees=2, seed=0)
    short = forest.search(queries[:10], k=60, search_k=1)
    assert short.n_requeried == 10 and short.ids.shape == (10, 60)
    full = forest.search(queries[:10], k=5)
    assert full.n_requeried == 0 and short.n_requeried == 10     # an earlier result is not rewritten


def test_overlap_of_positions():
    assert index.overlap(np.array([[0, 1], [2, 3]]), np.array([[1, 0], [2, 4]]), k=2) == 0.75
    assert index.overlap(np.array([[5, 1, 0]]), np.array([[0, 9]]), k=1) == 0.0
    with pytest.raises(ValueError, match=">= 3"):
        index.overlap(np.array([[0, 1]]), np.array([[0, 1]]), k=3)
