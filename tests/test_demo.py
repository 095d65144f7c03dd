"""The generated demo catalog: determinism, the contract, descriptions, users, caching, pictures."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fashionsim.metrics.retrieval import chance_recall_at_k
from PIL import Image

from fashionsim.data import Catalog
from fashionsim.data.demo import (
    DEMO_VERSION,
    default_demo_root,
    load_demo,
    make_demo,
    read_demo,
    verify_demo,
)
from fashionsim.plots import contact_sheet

SMALL = dict(n_products=20, n_users=12, image_size=48)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Catalog:
    """A 60-product demo at the default 96 px, shared by the read-only tests."""
    return make_demo(tmp_path_factory.mktemp("demo") / "demo", seed=0, n_products=60, n_users=40)


# ------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    make_demo(tmp_path / "a", seed=3, **SMALL)
    make_demo(tmp_path / "b", seed=3, **SMALL)
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert len(a) == 20 * 4 + 4  # images + 3 CSVs + manifest
    assert a == b
    assert verify_demo(tmp_path / "a") == []


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    make_demo(tmp_path / "a", seed=0, **SMALL)
    make_demo(tmp_path / "b", seed=1, **SMALL)
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["products.csv"] != b["products.csv"]
    assert a["interactions.csv"] != b["interactions.csv"]
    differing = [k for k in a if k.startswith("images/") and a[k] != b[k]]
    assert len(differing) == 80


def test_manifest_records_version_seed_params_and_hashes(demo: Catalog) -> None:
    import json

    manifest = json.loads((demo.root / "manifest.json").read_text())
    assert manifest["version"] == DEMO_VERSION and manifest["seed"] == 0
    assert manifest["params"] == {"n_products": 60, "n_users": 40, "image_size": 96, "n_shop": 2, "n_street": 2}
    assert "GENERATED" in manifest["note"]
    assert set(manifest["files"]) == {"products.csv", "images.csv", "interactions.csv"} | set(demo.images["path"])
    assert manifest["counts"]["images"] == len(demo.images)


def test_verify_demo_finds_a_changed_file(tmp_path: Path) -> None:
    cat = make_demo(tmp_path / "d", seed=0, **SMALL)
    target = cat.image_path("p0003_street1")
    target.write_bytes(target.read_bytes()[:-10])
    assert verify_demo(tmp_path / "d") == ["images/p0003_street1.png"]


def test_png_files_carry_no_metadata(demo: Catalog) -> None:
    payload = demo.image_path("p0000_shop0").read_bytes()
    assert payload.startswith(b"\x89PNG")
    for chunk in (b"tIME", b"tEXt", b"iTXt", b"zTXt"):
        assert chunk not in payload


# ---------------------------------------------------------------- contract
def test_contract_counts_and_ids(demo: Catalog) -> None:
    demo.validate(check_files=True)
    products, images = demo.products, demo.images
    assert len(products) == 60 and len(images) == 240
    assert list(products.columns[:6]) == ["product_id", "category", "color", "gender", "description", "split"]
    assert {"pattern", "material", "fit"} <= set(products.columns)
    assert products["product_id"].str.fullmatch(r"p\d{4}").all()
    assert images["image_id"].str.fullmatch(r"p\d{4}_(shop|street)\d").all()
    assert (images["path"] == "images/" + images["image_id"] + ".png").all()
    assert demo.interactions["user_id"].str.fullmatch(r"u\d{3}").all()
    per = images.groupby(["product_id", "source"]).size().unstack()
    assert (per["shop"] >= 2).all() and (per["street"] >= 2).all()
    assert products["category"].nunique() >= 8 and products["color"].nunique() >= 10


def test_images_are_rgb_at_the_asked_size(demo: Catalog) -> None:
    for image_id in ("p0000_shop0", "p0017_street1", "p0059_shop1"):
        with Image.open(demo.image_path(image_id)) as im:
            assert im.mode == "RGB" and im.size == (96, 96)


def test_clean_column(demo: Catalog) -> None:
    images = demo.images
    assert images["clean"].dtype == bool
    assert images.loc[images["source"] == "shop", "clean"].all()
    street = images[images["source"] == "street"]
    assert 0 < (~street["clean"]).sum() < len(street)  # some street photos are occluded, not all
    assert street.groupby("product_id")["clean"].any().all()  # every product keeps a clean street photo


def test_split_by_product_stratified(demo: Catalog) -> None:
    products = demo.products
    counts = products["split"].value_counts()
    assert counts.to_dict() == {"train": 42, "val": 9, "test": 9}
    table = demo.image_table()
    assert table.groupby("product_id")["split"].nunique().max() == 1
    per_cat = products.groupby("category")["split"].value_counts().unstack(fill_value=0)
    expected = per_cat.sum(axis=1) * 0.15
    assert ((per_cat["test"] - expected).abs() <= 1.5).all()


def test_interactions_per_user(demo: Catalog) -> None:
    inter = demo.interactions
    assert inter["user_id"].nunique() == 40
    sizes = inter.groupby("user_id").size()
    assert sizes.between(5, 40).all()
    splits = inter.groupby("user_id")["split"].value_counts().unstack(fill_value=0)
    assert (splits["test"] == 1).all() and (splits["val"] == 1).all()
    assert (splits["train"] == sizes - 2).all()
    assert not inter.duplicated(["user_id", "product_id"]).any()
    # interactions reach products of every product split (recommendation has its own split)
    assert set(inter.merge(demo.products, on="product_id")["split_y"]) == {"train", "val", "test"}


def test_users_follow_hidden_tastes() -> None:
    """At the default size a user's interactions concentrate on few colours and categories,
    clearly more than the same number of interactions per user drawn at random."""
    from fashionsim.data._demo_sampling import sample_interactions as _sample_interactions, sample_products as _sample_products

    rng = np.random.default_rng(0)
    attrs, _ = _sample_products(360, rng)
    inter = _sample_interactions(attrs, 320, rng)
    random_items = rng.integers(0, len(attrs), len(inter))

    def top_share(items: np.ndarray, column: str) -> float:
        frame = pd.DataFrame({"user": inter["user_id"], "value": attrs[column].to_numpy()[items]})
        counts = frame.groupby(["user", "value"]).size()
        return float((counts.groupby(level=0).max() / counts.groupby(level=0).sum()).mean())

    for column in ("color", "category"):
        assert top_share(inter["product_id"].to_numpy(), column) > top_share(random_items, column) + 0.08, column


# ------------------------------------------------------------ descriptions
def test_descriptions_describe_the_drawn_item(demo: Catalog) -> None:
    products = demo.products
    lower = products["description"].str.lower()
    for text, cat, color, material in zip(lower, products["category"], products["color"], products["material"]):
        assert cat in text, text
        assert re.search(rf"\b{color}\b", text), text
        assert material in text, text
    patterned = products["pattern"] != "plain"
    words = {"stripes": "strip", "dots": "dot", "checks": "check|plaid", "floral": "flower|floral",
             "chevron": "zigzag|chevron"}
    for text, pattern in zip(lower[patterned], products.loc[patterned, "pattern"]):
        assert re.search(words[pattern], text), text
    assert products["description"].nunique() == len(products)  # varied templates and words


# ---------------------------------------------------------------- caching
def test_load_demo_generates_then_reuses_then_regenerates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FASHIONSIM_DATA_DIR", str(tmp_path / "cache"))
    root = default_demo_root()
    assert root == tmp_path / "cache" / "demo"
    cat = load_demo(**SMALL)
    assert cat.root == root.resolve() and len(cat.products) == 20
    stamp = (root / "products.csv").stat().st_mtime_ns, (root / "products.csv").stat().st_ino

    again = load_demo(**SMALL)  # manifest matches: reused, not rewritten
    assert ((root / "products.csv").stat().st_mtime_ns, (root / "products.csv").stat().st_ino) == stamp
    assert again.products.equals(cat.products)

    (root / "manifest.json").unlink()  # manifest missing: generated again
    regenerated = load_demo(**SMALL)
    assert (root / "manifest.json").is_file()
    assert (root / "products.csv").stat().st_ino != stamp[1]
    assert regenerated.products.equals(cat.products)

    other = load_demo(seed=1, **SMALL)  # another seed: generated again
    assert not other.products["description"].equals(cat.products["description"])


def test_two_processes_racing_leave_one_complete_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from fashionsim.data.demo import load_demo; "
        "cat = load_demo(sys.argv[1], n_products=20, n_users=12, image_size=48); print(len(cat.images))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "demo")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["80", "80"]
    assert verify_demo(tmp_path / "demo") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no temporary folder left behind


def test_load_demo_regenerates_a_damaged_folder_when_verifying(tmp_path: Path) -> None:
    make_demo(tmp_path / "d", seed=0, **SMALL)
    (tmp_path / "d" / "images" / "p0001_shop0.png").write_bytes(b"broken")
    assert verify_demo(tmp_path / "d") == ["images/p0001_shop0.png"]
    cat = load_demo(tmp_path / "d", verify=True, **SMALL)
    assert verify_demo(cat.root) == []
    with Image.open(cat.image_path("p0001_shop0")) as im:
        assert im.size == (48, 48)


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="thesis.tex"):
        make_demo(tmp_path / "mine", **SMALL)
    with pytest.raises(FileExistsError, match="not part of a demo catalog"):
        load_demo(tmp_path / "mine", **SMALL)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="n_products"):
        make_demo("/nonexistent/never", n_products=3)
    with pytest.raises(ValueError, match="image_size"):
        make_demo("/nonexistent/never", image_size=8)
    with pytest.raises(ValueError, match="seed"):
        make_demo("/nonexistent/never", seed=-1)
    with pytest.raises(TypeError, match="n_prodcts"):
        load_demo("/nonexistent/never", n_prodcts=10)


def test_read_demo_names_a_missing_table(tmp_path: Path) -> None:
    make_demo(tmp_path / "d", seed=0, **SMALL)
    (tmp_path / "d" / "interactions.csv").unlink()
    with pytest.raises(FileNotFoundError, match="interactions.csv"):
        read_demo(tmp_path / "d")


# ------------------------------------------------------- difficulty, chance
def _histograms(cat: Catalog, image_ids, bins: int = 8) -> np.ndarray:
    out = []
    for path in cat.image_paths(image_ids):
        with Image.open(path) as im:
            a = np.asarray(im.convert("RGB")) // (256 // bins)
        codes = (a[..., 0].astype(int) * bins + a[..., 1]) * bins + a[..., 2]
        h = np.bincount(codes.ravel(), minlength=bins**3).astype(float)
        out.append(h / h.sum())
    return np.asarray(out)


def test_colour_histogram_does_not_solve_street_to_shop(demo: Catalog) -> None:
    """Shop to shop is easy for a colour histogram; street to shop is not (but beats chance)."""
    images = demo.images
    shop0 = images[images["image_id"].str.endswith("_shop0")]
    shop1 = images[images["image_id"].str.endswith("_shop1")]
    street = images[images["source"] == "street"]
    gallery = pd.concat([shop0, shop1])
    g = _histograms(demo, gallery["image_id"])

    def recall1(query: pd.DataFrame, gal: np.ndarray, gal_pid: np.ndarray) -> float:
        q = _histograms(demo, query["image_id"])
        best = np.abs(q[:, None, :] - gal[None, :, :]).sum(-1).argmin(axis=1)
        return float(np.mean(gal_pid[best] == query["product_id"].to_numpy()))

    shop_to_shop = recall1(shop0, _histograms(demo, shop1["image_id"]), shop1["product_id"].to_numpy())
    street_to_shop = recall1(street, g, gallery["product_id"].to_numpy())
    chance = chance_recall_at_k(len(gallery), 2, (1,))[1]
    assert shop_to_shop > 0.9
    assert chance < street_to_shop < 0.5



# ---------------------------------------------------------------- picture
def test_contact_sheet_returns_and_saves_a_figure(demo: Catalog, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    fig = contact_sheet(demo, tmp_path / "sheet.png", n=6, seed=1)
    assert isinstance(fig, Figure)
    assert "GENERATED" in fig.get_suptitle()
    assert len([ax for ax in fig.axes if ax.images]) == 6 * 4
    with Image.open(tmp_path / "sheet.png") as im:
        assert im.size[0] > 300
    chosen = contact_sheet(demo, n=2, product_ids=["p0001", "p0002"])
    assert len([ax for ax in chosen.axes if ax.images]) == 8
    with pytest.raises(KeyError, match="nope"):
        contact_sheet(demo, product_ids=["nope"])
