"""Method 2 end to end: metadata triplets re-mined semi-hard, on a shop-only catalog with one photo a product."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fashionsim import deep_ranking, mining, training
from fashionsim.data import Catalog
from fashionsim.metrics import label_precision_at_k

from conftest import write_image

PALETTE = {"red": (200, 30, 30), "blue": (30, 30, 200)}


@pytest.fixture
def shop_only(tmp_path):
    """18 products (3 categories × 2 colours × 3), one shop photo each, splits train/val/test."""
    products, images = [], []
    for n, (category, color, k) in enumerate((c, col, k) for c in ("dress", "shirt", "shoe") for col in PALETTE
                                             for k in range(3)):
        pid = f"p{n:02d}"
        split = ("train", "train", "val")[k] if n % 2 == 0 else ("train", "test", "train")[k]
        products.append(dict(product_id=pid, category=category, color=color, gender="women",
                             description=f"A {color} {category}.", split=split))
        rel = f"images/{pid}.png"
        write_image(tmp_path / rel, PALETTE[color], size=32 + 4 * k)
        images.append(dict(image_id=pid, product_id=pid, path=rel, source="shop"))
    return Catalog(pd.DataFrame(products), pd.DataFrame(images), root=tmp_path)


def small_run(cat, **kwargs):
    options = dict(backbone="small_cnn", input_size=32, epochs=2, triplets_per_epoch=12, batch_triplets=3,
                   learning_rate=1e-3, ks=(1, 2), progress=False, verbose=0, seed=0, triplets="metadata")
    options.update(kwargs)
    return training.train_siamese(cat, **options)


def test_metadata_route_trains_on_one_shop_photo_per_product(shop_only, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the tiny val split is too small to select on
        run = small_run(shop_only, out_dir=tmp_path / "run", eval_every=1)
    h = run.history
    assert h["epoch"] == [1, 2] and not run.collapsed
    assert all(0 <= v <= 1 for v in h["val_color_precision@1"] + h["val_category_precision@2"])
    assert all(f > 0 for f in h["fallbacks"])  # one photo a product: same-product positives fall back to same colour
    assert (tmp_path / "run" / "checkpoint" / "state.json").is_file()
    resumed = small_run(shop_only, out_dir=tmp_path / "run", epochs=3, resume=True)
    assert resumed.history["epoch"] == [1, 2, 3]


def test_mined_negatives_obey_the_metadata_rules(shop_only):
    from fashionsim.models.embedding import build_embedding_model

    model = build_embedding_model(backbone="small_cnn", input_size=32, hidden=16, embedding_dim=8)
    train = shop_only.split("train")
    sampler = deep_ranking.metadata_sampler(train, p_in_class=0.5)
    mined = deep_ranking.mine_metadata_triplets(model, train, sampler, 60, input_size=32, seed=1).triplets
    info = shop_only.products.set_index("product_id")
    q, n = info.loc[mined.product_id], info.loc[mined.negative_product_id]
    in_class = mined.kind.astype(str).str.endswith("/in_class").to_numpy()
    assert in_class.any() and (~in_class).any()
    same_category = q.category.to_numpy() == n.category.to_numpy()
    assert (same_category & (q.color.to_numpy() != n.color.to_numpy()))[in_class].all()
    assert (~same_category)[~in_class].all()
    np.testing.assert_allclose(mined.margin, mined.d_an - mined.d_ap, atol=1e-9)
    again = deep_ranking.mine_metadata_triplets(model, train, sampler, 60, input_size=32, seed=1).triplets
    assert again[["anchor", "positive", "negative"]].equals(mined[["anchor", "positive", "negative"]])


def test_a_catalog_neither_route_can_use_is_refused_before_training(shop_only):
    with pytest.raises(ValueError, match="no product has both a street and a shop image.*metadata"):
        small_run(shop_only, triplets="mined")
    one_colour = Catalog(shop_only.products.assign(color="red", category="dress"), shop_only.images,
                         root=shop_only.root)
    with pytest.raises(ValueError, match="cannot draw metadata triplets"):
        small_run(one_colour)
    with pytest.raises(ValueError, match="triplets must be one of"):
        small_run(shop_only, triplets="random")
    with pytest.raises(ValueError, match="select_by must be one of"):
        small_run(shop_only, select_by="val_recall@1")


def test_tiny_validation_split_drops_selection_with_a_warning(shop_only):
    with pytest.warns(RuntimeWarning, match="too few to select an epoch on"):
        run = small_run(shop_only, epochs=1, select_by="val_color_precision@1")
    assert run.best_epoch == 1


def test_no_validation_split_trains_without_evaluation(shop_only):
    run = small_run(shop_only, epochs=1, eval_split=None)
    assert run.history["val_color_precision@1"] == [None]


def test_semihard_among_matches_the_pair_miner_and_respects_the_mask():
    rng = np.random.default_rng(0)
    a, p = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    labels = rng.integers(0, 7, 40)
    expected = mining.semihard_negatives(a, p, labels)
    got = mining.semihard_among(a, p, p, labels[:, None] != labels[None, :], chunk_elements=50)
    np.testing.assert_array_equal(got, expected)
    mask = rng.random((40, 40)) < 0.2
    mask[3] = False
    got = mining.semihard_among(a, p, p, mask)
    assert got[3] == -1 and all(mask[i, got[i]] for i in range(40) if i != 3)
    d = ((a[:, None] - p[None]) ** 2).sum(-1)
    d_ap = ((a - p) ** 2).sum(-1)
    for i in (0, 1, 2):  # per-row reference: closest allowed farther than the positive, else the farthest allowed
        ok = np.flatnonzero(mask[i])
        farther = ok[d[i, ok] > d_ap[i]]
        assert got[i] == (farther[np.argmin(d[i, farther])] if len(farther) else ok[np.argmax(d[i, ok])])


def test_label_precision_against_a_loop_and_with_missing_labels():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(30, 4))
    labels = list(rng.integers(0, 3, 30).astype(object))
    labels[4] = None
    got = label_precision_at_k(v, labels, ks=(1, 3), chunk_rows=7)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    shares = []
    for i in range(30):
        if labels[i] is None:
            continue
        sim = unit @ unit[i]
        sim[i] = -np.inf
        top = np.argsort(-sim, kind="stable")[:3]
        shares.append([labels[j] is not None and labels[j] == labels[i] for j in top])
    shares = np.array(shares)
    assert got[1] == pytest.approx(shares[:, :1].mean()) and got[3] == pytest.approx(shares.mean())
    with pytest.raises(ValueError, match="ks must lie"):
        label_precision_at_k(v, labels, ks=(30,))


def test_cli_trains_on_metadata_triplets(shop_only, tmp_path, capsys):
    import json

    from fashionsim import cli, data

    folder = data.write_catalog(shop_only, tmp_path)   # the CSVs beside the images
    code = cli.main(["train", "siamese", "--catalog", str(folder), "--out", str(tmp_path / "out"), "--triplets",
                     "metadata", "--epochs", "1", "--image-size", "32", "--triplets-per-epoch", "12",
                     "--batch-size", "9", "--select-by", "none", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["triplets"] == "metadata" and (tmp_path / "out" / "model.keras").is_file()
    assert payload["last_epoch"]["val_color_precision@1"] is not None
    assert payload["last_epoch"]["val_color_precision@100"] is None   # the split has fewer photos than that
    assert cli.main(["train", "dvbpr", "--catalog", str(folder), "--out", str(tmp_path / "d"), "--triplets",
                     "metadata"]) == 2
