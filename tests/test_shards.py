"""Sharded embedding and merging: `embed --shard K/N` in three shares, one index from them, and the refusals."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fashionsim.cli import main
from fashionsim.index import EmbeddingIndex
from fashionsim.shards import check_shards, ids_digest, iter_blocks, parse_shard, shard_bounds, write_embeddings


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def answers(index_file: Path, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    return EmbeddingIndex.load(index_file).query(queries, k)


# ------------------------------------------------------------------ which rows
def test_shard_bounds_tile_the_selection_whatever_n():
    for n in (3, 10, 11, 1000, 1001):
        for n_shards in (1, 2, 3, 7):
            if n < n_shards:
                continue
            blocks = [shard_bounds(n, k, n_shards) for k in range(1, n_shards + 1)]
            assert blocks[0][0] == 0 and blocks[-1][1] == n
            assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
            sizes = [stop - start for start, stop in blocks]
            assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "3/0", "1-3", "", "1/3/5", "-1/3"])
def test_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b"])
def test_bad_shard_on_the_command_line_is_one_line_exit_2_before_the_model_is_read(capsys, tmp_path, text):
    code, _, err = cli(capsys, "embed", "--model", str(tmp_path / "missing.keras"), "--out", str(tmp_path / "e.npy"),
                       "--shard", text)
    line = one_error_line(err)
    assert code == 2 and "--shard" in line and repr(text) in line, line
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ synthetic shard files
def write_cut(folder: Path, vectors: np.ndarray, ids: list, n_shards: int, *, fingerprint: str = "f" * 16,
              stem: str = "shard") -> list[Path]:
    """Write ``vectors`` as the N shard files `embed --shard K/N` would write."""
    products = [f"p{i}" for i in range(len(ids))]
    paths = []
    for k in range(1, n_shards + 1):
        start, stop = shard_bounds(len(ids), k, n_shards)
        paths.append(write_embeddings(
            folder / f"{stem}{k}.npy", [vectors[start:stop]], ids[start:stop], dim=vectors.shape[1],
            fingerprint=fingerprint,
            extra={"products": products[start:stop], "shard": f"{k}/{n_shards}", "first_row": start,
                   "n_total": len(ids), "ids_digest": ids_digest(ids)}))
    return paths


@pytest.fixture()
def cut(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(900, 16)).astype(np.float32)
    ids = [f"img{i:04d}" for i in range(900)]
    whole = write_embeddings(tmp_path / "whole.npy", [vectors], ids, dim=16, fingerprint="f" * 16,
                             extra={"products": [f"p{i}" for i in range(900)]})
    return tmp_path, vectors, ids, whole, write_cut(tmp_path, vectors, ids, 3)


def test_merged_index_answers_exactly_as_the_unsharded_one(capsys, cut):
    folder, _, ids, whole, shards = cut
    queries = np.random.default_rng(1).normal(size=(40, 16)).astype(np.float32)
    assert cli(capsys, "index", str(whole), "--out", str(folder / "whole.ann"), "--n-trees", "4")[0] == 0
    reference = answers(folder / "whole.ann", queries)
    # given in any order, in memory or on disk: the same forest
    for name, extra in (("merged", []), ("on-disk", ["--on-disk"])):
        code, out, err = cli(capsys, "index", str(shards[2]), str(shards[0]), str(shards[1]), "--out",
                             str(folder / f"{name}.ann"), "--n-trees", "4", "--json", *extra)
        assert code == 0, err
        assert json.loads(out)["shards"] == 3 and json.loads(out)["on_disk"] == bool(extra)
        got = answers(folder / f"{name}.ann", queries)
        np.testing.assert_array_equal(got[0], reference[0])
        np.testing.assert_array_equal(got[1], reference[1])
        products = json.loads((folder / f"{name}.ann.products.json").read_text())
        assert products == {i: f"p{n}" for n, i in enumerate(ids)}      # every shard's images
    assert not list(folder.glob(".*building*"))                          # the on-disk build file is gone


def test_blocks_stream_in_order_and_bounded(cut):
    _, vectors, ids, _, shards = cut
    merged = check_shards(shards[::-1])
    blocks = list(iter_blocks(merged, rows=128))
    assert max(len(b) for b, _ in blocks) == 128
    np.testing.assert_array_equal(np.concatenate([b for b, _ in blocks]), vectors)
    assert [i for _, block_ids in blocks for i in block_ids] == ids == merged.ids


def _refused(capsys, folder: Path, *files: Path) -> str:
    code, _, err = cli(capsys, "index", *map(str, files), "--out", str(folder / "refused.ann"))
    assert code == 2 and not (folder / "refused.ann").exists()
    return one_error_line(err)


def test_mixed_fingerprints_are_refused(capsys, cut):
    folder, vectors, ids, _, shards = cut
    other = write_cut(folder, vectors, ids, 3, fingerprint="0" * 16, stem="other")
    line = _refused(capsys, folder, shards[0], other[1], shards[2])
    assert "other2.npy" in line and "model" in line and "0" * 16 in line, line


def test_missing_shard_is_refused(capsys, cut):
    folder, *_, shards = cut
    line = _refused(capsys, folder, shards[0], shards[2])
    assert "2/3" in line and "missing" in line and "shard1.npy" in line, line


def test_duplicate_shard_is_refused(capsys, cut):
    folder, *_, shards = cut
    copy = folder / "copy.npy"
    shutil.copy(shards[1], copy)
    shutil.copy(shards[1].with_suffix(".json"), copy.with_suffix(".json"))
    line = _refused(capsys, folder, *shards, copy)
    assert "copy.npy" in line and "shard2.npy" in line and "2/3" in line, line


def test_other_cuts_dimensions_and_overlaps_are_refused(capsys, cut):
    folder, vectors, ids, _, shards = cut
    four = write_cut(folder, vectors, ids, 4, stem="four")
    assert "four2.npy" in _refused(capsys, folder, shards[0], four[1], shards[2])       # 2/4 among N=3
    fewer = write_cut(folder, vectors[:600], ids[:600], 3, stem="fewer")
    line = _refused(capsys, folder, shards[0], fewer[1], shards[2])                     # another selection
    assert "fewer2.npy" in line and "selection" in line, line
    wide = write_cut(folder, np.hstack([vectors, vectors]), ids, 3, stem="wide")
    line = _refused(capsys, folder, shards[0], wide[1], shards[2])
    assert "wide2.npy" in line and "32-dimensional" in line, line
    # shard 2 rewritten to repeat an id of shard 1: not disjoint (the digest alone would also catch it)
    start, stop = shard_bounds(900, 2, 3)
    bad_ids = [ids[0]] + ids[start + 1:stop]
    write_embeddings(folder / "overlap.npy", [vectors[start:stop]], bad_ids, dim=16, fingerprint="f" * 16,
                     extra={"shard": "2/3", "first_row": start, "n_total": 900, "ids_digest": ids_digest(ids)})
    line = _refused(capsys, folder, shards[0], folder / "overlap.npy", shards[2])
    assert "overlap" in line and "shard1.npy" in line and "overlap.npy" in line and ids[0] in line, line


# ------------------------------------------------------------------ the real path: a catalog, a model, three shards
@pytest.fixture(scope="module")
def catalog_and_model(tmp_path_factory):
    import keras

    from fashionsim.data import make_demo

    folder = tmp_path_factory.mktemp("shards")
    make_demo(folder / "demo", seed=0, n_products=12, n_users=6, image_size=32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(8)])
    model.save(folder / "model.keras")
    return folder, folder / "demo", folder / "model.keras"


def test_three_embedded_shards_merge_into_the_unsharded_index(capsys, catalog_and_model):
    folder, demo, model = catalog_and_model
    common = ["--model", str(model), "--catalog", str(demo), "--batch-size", "5", "--json"]
    code, out, err = cli(capsys, "embed", *common, "--out", str(folder / "all.npy"))
    assert code == 0, err
    n = json.loads(out)["n"]
    shards = []
    for k in (1, 2, 3):
        code, out, err = cli(capsys, "embed", *common, "--shard", f"{k}/3", "--out", str(folder / f"part{k}.npy"))
        assert code == 0, err
        payload = json.loads(out)
        start, stop = shard_bounds(n, k, 3)
        assert payload["shard"] == f"{k}/3" and payload["n_total"] == n and payload["n"] == stop - start
        shards.append(folder / f"part{k}.npy")
    # resumable and atomic like embed: a second run of a shard gives the same vectors and leaves no parts
    first = np.load(shards[1])
    assert cli(capsys, "embed", *common, "--shard", "2/3", "--out", str(shards[1]))[0] == 0
    np.testing.assert_allclose(np.load(shards[1]), first, atol=1e-6)
    assert not list(folder.glob("*.parts"))
    np.testing.assert_allclose(np.concatenate([np.load(s) for s in shards]), np.load(folder / "all.npy"), atol=1e-5)

    assert cli(capsys, "index", str(folder / "all.npy"), "--out", str(folder / "all.ann"), "--n-trees", "5")[0] == 0
    code, _, err = cli(capsys, "index", *map(str, shards), "--out", str(folder / "merged.ann"), "--n-trees", "5")
    assert code == 0, err
    queries = np.load(folder / "all.npy")[::5]
    whole, merged = answers(folder / "all.ann", queries, 8), answers(folder / "merged.ann", queries, 8)
    np.testing.assert_array_equal(merged[0], whole[0])
    np.testing.assert_allclose(merged[1], whole[1], atol=1e-5)
    assert (json.loads((folder / "merged.ann.products.json").read_text())
            == json.loads((folder / "all.ann.products.json").read_text()))
    assert (folder / "merged.ann.catalog.json").is_file()

    # a shard of a model that has trained one step more is refused, naming it
    import keras

    other = keras.models.load_model(model)
    other.layers[-1].bias.assign(other.layers[-1].bias + 0.01)
    other.save(folder / "other.keras")
    code, _, err = cli(capsys, "embed", *common[2:], "--model", str(folder / "other.keras"), "--shard", "3/3",
                       "--out", str(folder / "other3.npy"))
    assert code == 0, err
    line = _refused(capsys, folder, shards[0], shards[1], folder / "other3.npy")
    assert "other3.npy" in line and "model" in line, line


def test_more_shards_than_images_is_one_line(capsys, catalog_and_model):
    folder, demo, model = catalog_and_model
    code, _, err = cli(capsys, "embed", "--model", str(model), "--catalog", str(demo), "--split", "val",
                       "--source", "shop", "--shard", "1/500", "--out", str(folder / "x.npy"))
    line = one_error_line(err)
    assert code == 2 and "--shard" in line and "fewer" in line, line
