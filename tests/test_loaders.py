"""Loaders: fixture files written in each dataset's real on-disk format, and the errors they must name."""

from __future__ import annotations

import gzip
import io
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_image
from PIL import Image

from fashionsim.data import CatalogError, loaders
from fashionsim.data.loaders import (
    from_article_csv,
    from_deepfashion_consumer2shop,
    from_deepfashion_inshop,
    from_dvbpr_npy,
    from_fashion_mnist,
    from_folders,
    read_idx,
    split_products,
)

RED, BLUE = (200, 30, 30), (30, 30, 200)


def img(path: Path, color=RED) -> Path:
    return write_image(path, color, size=8)


# ------------------------------------------------------------------------------------------- split
def test_split_products_is_seeded_and_by_product():
    ids = [f"p{i}" for i in range(100)] + ["p3", "p3"]
    a = split_products(ids, (0.8, 0.1, 0.1), seed=0)
    assert np.array_equal(a, split_products(ids, (0.8, 0.1, 0.1), seed=0))
    assert not np.array_equal(a, split_products(ids, (0.8, 0.1, 0.1), seed=1))
    assert a[100] == a[101] == a[3]
    assert [int((a[:100] == s).sum()) for s in ("train", "val", "test")] == [80, 10, 10]
    with pytest.raises(ValueError, match="sum"):
        split_products(ids, (0.8, 0.3, 0.1))


# ------------------------------------------------------------------------------------------- article CSV
ARTICLE_ROWS = [  # the article's layout: tab-separated, one row per image, _name = image path
    ("dress-material-menu", "Green", "1915297", "f", "dress-material-menu/1915297_Green_0.jpg"),
    ("dress-material-menu", "Green", "1915297", "f", "dress-material-menu/1915297_Green_1.jpg"),
    ("dress-material-menu", "White", "1845835", "f", "dress-material-menu/1845835_White_0.jpg"),
    ("shirt", "Blue", "2000001", "m", "shirt/2000001_Blue_0.jpg"),
]


def write_article(tmp_path: Path, rows=ARTICLE_ROWS, sep="\t", extra: dict | None = None) -> tuple[Path, Path]:
    root = tmp_path / "images"
    frame = pd.DataFrame(rows, columns=["_category", "_color", "_id", "_gender", "_name"])
    for column, values in (extra or {}).items():
        frame[column] = values
    for name in frame["_name"]:
        if name.endswith(".jpg") and not name.startswith(("/", "..")):
            img(root / name)
    root.mkdir(parents=True, exist_ok=True)
    csv = tmp_path / "sample_set.csv"
    frame.to_csv(csv, sep=sep, index=False)
    return csv, root


def test_article_csv_in_the_articles_layout(tmp_path):
    csv, root = write_article(tmp_path)
    cat = from_article_csv(csv, root)
    assert list(cat.products["product_id"]) == ["1915297", "1845835", "2000001"]
    assert list(cat.products["gender"]) == ["women", "women", "men"]
    assert list(cat.products["color"]) == ["Green", "White", "Blue"]
    assert set(cat.products["split"]) <= {"train", "val", "test"}
    assert list(cat.images["path"]) == [r[4] for r in ARTICLE_ROWS] and set(cat.images["source"]) == {"shop"}
    assert cat.image_path(ARTICLE_ROWS[0][4]).is_file()
    again = from_article_csv(csv, root)
    pd.testing.assert_frame_equal(cat.products, again.products)  # the seeded split repeats
    csv2, _ = write_article(tmp_path / "comma", sep=",")
    assert len(from_article_csv(csv2, tmp_path / "comma" / "images").images) == 4


def test_article_csv_optional_columns(tmp_path):
    csv, root = write_article(tmp_path, extra={
        "description": ["green dress", "green dress", "white dress", "blue shirt"],
        "split": ["train", "train", "val", "test"],
        "source": ["shop", "street", "shop", "shop"],
    })
    cat = from_article_csv(csv, root)
    assert list(cat.products["description"]) == ["green dress", "white dress", "blue shirt"]
    assert list(cat.products["split"]) == ["train", "val", "test"]
    assert list(cat.images["source"]) == ["shop", "street", "shop", "shop"]


def test_article_csv_images_found_by_product_id(tmp_path):
    rows = [("shirt", "Red", "a1", "m", "Red shirt"), ("shirt", "Red", "a1", "m", "Red shirt"),
            ("dress", "Blue", "b2", "w", "Blue dress")]
    csv, root = write_article(tmp_path, rows=rows)
    img(root / "a1.jpg")
    img(root / "b2" / "front.png")
    img(root / "b2" / "back.JPG")
    (root / "b2" / "notes.txt").write_text("not an image")
    cat = from_article_csv(csv, root)
    assert sorted(cat.images["path"]) == ["a1.jpg", "b2/back.JPG", "b2/front.png"]
    (root / "a1.jpg").unlink()
    with pytest.raises(CatalogError, match=r"sample_set.csv: no image found for product\(s\) at line 2 \('a1'\)"):
        from_article_csv(csv, root)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="_color"), r"sample_set.csv: missing column\(s\) \['_color'\]"),
    (lambda f: f.assign(_category=["x", "", "x", "y"]), r"column _category is empty at line 3 \('1915297'\)"),
    (lambda f: f.assign(_name=["../x.jpg", *f["_name"][1:]]), r"stay inside .* line 2 \('../x.jpg'\)"),
    (lambda f: f.assign(_name=[*f["_name"][:3], "/abs.jpg"]), r"stay inside .* line 5 \('/abs.jpg'\)"),
    (lambda f: f.assign(_name=[f["_name"][0]] * 2 + list(f["_name"][2:])), r"listed twice at line 2 .* line 3"),
    (lambda f: f.assign(_color=["Green", "Red", "White", "Blue"]), r"disagree on color at line 2 .*line 3"),
    (lambda f: f.assign(split=["train", "train", "holdout", "test"]), r"split must be one of .* line 4 \('holdout'\)"),
    (lambda f: f.assign(source=["shop", "user", "shop", "shop"]), r"source must be one of .* line 3 \('user'\)"),
    (lambda f: f.assign(_name=[*f["_name"][:2], "shirt/missing.jpg", f["_name"][3]]),
     r"image file not found under .* line 4 \('shirt/missing.jpg'\)"),
    (lambda f: f.iloc[:0], r"the catalog is empty"),
])
def test_article_csv_errors_name_file_and_line(tmp_path, change, message):
    csv, root = write_article(tmp_path)
    frame = pd.read_csv(csv, sep="\t", dtype=str)
    change(frame).to_csv(csv, sep="\t", index=False)
    with pytest.raises(CatalogError, match=message):
        from_article_csv(csv, root)


def test_article_csv_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CatalogError, match="empty.csv: the file is empty"):
        from_article_csv(tmp_path / "empty.csv", tmp_path)
    (tmp_path / "ragged.csv").write_text("_id,_category,_color\n1,a,b\n2,a,b,c,d\n")
    with pytest.raises(CatalogError, match="ragged.csv: not a readable CSV .*line 3"):
        from_article_csv(tmp_path / "ragged.csv", tmp_path)
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        from_article_csv(tmp_path / "nothere.csv", tmp_path)


# ------------------------------------------------------------------------------------------- folders
def test_from_folders_with_shop_and_street_subfolders(tmp_path):
    img(tmp_path / "p1" / "a.jpg")
    img(tmp_path / "p1" / "b.jpeg")
    img(tmp_path / "p2" / "shop" / "front.png")
    img(tmp_path / "p2" / "street" / "worn.jpg")
    (tmp_path / "p2" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "README.txt").write_text("catalog")
    cat = from_folders(tmp_path)
    assert list(cat.products["product_id"]) == ["p1", "p2"]
    assert cat.images[["path", "source"]].values.tolist() == [
        ["p1/a.jpg", "shop"], ["p1/b.jpeg", "shop"], ["p2/shop/front.png", "shop"], ["p2/street/worn.jpg", "street"],
    ]
    assert set(cat.products["category"]) == {"unknown"}
    street = from_folders(tmp_path, source="street")
    assert street.images.loc[0, "source"] == "street" and street.images.loc[2, "source"] == "shop"
    meta = pd.DataFrame({"product_id": ["p2"], "category": ["dress"], "gender": ["f"], "split": ["test"]})
    described = from_folders(tmp_path, metadata=meta)
    assert described.products.loc[1, ["category", "gender", "split"]].tolist() == ["dress", "women", "test"]
    assert described.products.loc[0, "category"] == "unknown"


def test_from_folders_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        from_folders(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="no product folders"):
        from_folders(tmp_path / "empty")
    root = tmp_path / "cat"
    img(root / "p1" / "a.jpg")
    (root / "p2").mkdir()
    (root / "p2" / "notes.txt").write_text("no picture here")
    with pytest.raises(CatalogError, match=r"product folder\(s\) with no image .*\['p2'\]"):
        from_folders(root)
    img(root / "p2" / "thumbs" / "a.jpg")
    with pytest.raises(CatalogError, match=r"p2: unexpected sub-folder\(s\) \['thumbs'\]"):
        from_folders(root)
    with pytest.raises(ValueError, match="source must be one of"):
        from_folders(root, source="consumer")
    (root / "p2" / "thumbs" / "a.jpg").rename(root / "p2" / "a.jpg")
    (root / "p2" / "thumbs").rmdir()
    meta = tmp_path / "meta.csv"
    meta.write_text("product_id,category\np1,shirt\np9,dress\n")
    with pytest.raises(CatalogError, match=r"meta.csv: product_id without a folder .* line 3 \('p9'\)"):
        from_folders(root, metadata=meta)


def test_from_folders_refuses_a_symlink_leaving_the_root(tmp_path):
    outside = img(tmp_path / "outside.jpg")
    root = tmp_path / "cat"
    img(root / "p1" / "a.jpg")
    (root / "p2").mkdir()
    (root / "p2" / "b.jpg").symlink_to(outside)
    with pytest.raises(CatalogError, match="resolves outside the root"):
        from_folders(root)


# ------------------------------------------------------------------------------------------- DeepFashion
def write_partition(path: Path, header: str, rows: list[str], count: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([str(len(rows) if count is None else count), header, *rows]) + "\n")
    return path


INSHOP = [
    ("img/WOMEN/Dresses/id_00000002/02_1_front.jpg", "id_00000002", "train"),
    ("img/WOMEN/Dresses/id_00000002/02_2_side.jpg", "id_00000002", "train"),
    ("img/MEN/Denim/id_00000080/01_1_front.jpg", "id_00000080", "query"),
    ("img/MEN/Denim/id_00000080/01_2_side.jpg", "id_00000080", "gallery"),
    ("img/WOMEN/Blouses_Shirts/id_00000099/01_1_front.jpg", "id_00000099", "gallery"),
]
INSHOP_HEADER = "image_name item_id evaluation_status"


def write_inshop(root: Path, rows=INSHOP, count=None) -> Path:
    for name, _, _ in rows:
        img(root / "Img" / name)
    (root / "Anno").mkdir(parents=True, exist_ok=True)
    (root / "Anno" / "list_description_inshop.json").write_text(json.dumps([
        {"item": "id_00000002", "color": "Red", "description": ["A red dress.", "Lined."]},
        {"item": "id_00000080", "color": "", "description": []},
    ]))
    lines = [f"{a}          {b}   {c}" for a, b, c in rows]  # the real file pads with spaces
    return write_partition(root / "Eval" / "list_eval_partition.txt", INSHOP_HEADER, lines, count)


def test_deepfashion_inshop(tmp_path):
    write_inshop(tmp_path)
    cat = from_deepfashion_inshop(tmp_path)
    assert cat.root == (tmp_path / "Img").resolve()
    products = cat.products.set_index("product_id")
    assert products["split"].to_dict() == {"id_00000002": "train", "id_00000080": "test", "id_00000099": "test"}
    assert products["gender"].tolist() == ["women", "men", "women"]
    assert products["category"].tolist() == ["dresses", "denim", "blouses_shirts"]
    assert products["color"].tolist() == ["red", "unknown", "unknown"]
    assert products.loc["id_00000002", "description"] == "A red dress. Lined."
    assert cat.images["source"].tolist() == ["shop", "shop", "street", "shop", "shop"]  # query -> street
    assert cat.images["status"].tolist() == [r[2] for r in INSHOP]
    with_val = from_deepfashion_inshop(tmp_path, val_fraction=1.0)
    assert with_val.products.set_index("product_id").loc["id_00000002", "split"] == "val"


@pytest.mark.parametrize("rows, count, message", [
    (INSHOP, 7, "line 1 announces 7 rows but the file has 5"),
    ([*INSHOP[:2], (INSHOP[2][0], INSHOP[2][1], "probe")], None, r"evaluation_status must be one of .* line 5 \('probe'\)"),
    ([*INSHOP[:2], (INSHOP[2][0], "id_00000002", "query")], None, r"more than one split at line 3 .* line 5"),
    ([INSHOP[0], INSHOP[0]], None, r"listed twice at line 3"),
])
def test_deepfashion_inshop_errors(tmp_path, rows, count, message):
    write_inshop(tmp_path, rows, count)
    with pytest.raises(CatalogError, match="list_eval_partition.txt: .*" + message):
        from_deepfashion_inshop(tmp_path)


def test_deepfashion_partition_format_errors(tmp_path):
    path = write_partition(tmp_path / "list_eval_partition.txt", "image_name item evaluation_status", [])
    with pytest.raises(CatalogError, match="line 2 must be the header"):
        from_deepfashion_inshop(tmp_path)
    write_partition(path, INSHOP_HEADER, ["img/a.jpg id_1 train", "img/b.jpg id_1"])
    with pytest.raises(CatalogError, match=r"expected 3 fields .* at line 4 \('img/b.jpg id_1'\)"):
        from_deepfashion_inshop(tmp_path)
    path.write_text("five\n" + INSHOP_HEADER + "\n")
    with pytest.raises(CatalogError, match="line 1 must be the number of rows"):
        from_deepfashion_inshop(tmp_path)
    write_partition(path, INSHOP_HEADER, ["img/../../etc/passwd id_1 train"])
    with pytest.raises(CatalogError, match=r"stay inside .* line 3"):
        from_deepfashion_inshop(tmp_path)
    write_partition(path, INSHOP_HEADER, ["img/WOMEN/Dresses/id_1/a.jpg id_1 train"])
    with pytest.raises(CatalogError, match=r"image file not found .* line 3 \('img/WOMEN/Dresses/id_1/a.jpg'\)"):
        from_deepfashion_inshop(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(FileNotFoundError, match="list_eval_partition.txt not found"):
        from_deepfashion_inshop(tmp_path / "elsewhere")


C2S_HEADER = "image_pair_name_1 image_pair_name_2 item_id evaluation_status"
C2S = [
    ("img/CLOTHING/Blouse/id_00000001/comsumer_01.jpg", "img/CLOTHING/Blouse/id_00000001/shop_01.jpg", "id_00000001", "train"),
    ("img/CLOTHING/Blouse/id_00000001/comsumer_02.jpg", "img/CLOTHING/Blouse/id_00000001/shop_01.jpg", "id_00000001", "train"),
    ("img/DRESSES/Dress/id_00000007/comsumer_01.jpg", "img/DRESSES/Dress/id_00000007/shop_01.jpg", "id_00000007", "val"),
    ("img/TOPS/Tee/id_00000009/comsumer_01.jpg", "img/TOPS/Tee/id_00000009/shop_01.jpg", "id_00000009", "test"),
]


def write_c2s(root: Path, rows=C2S) -> None:
    for consumer, shop, _, _ in rows:
        img(root / consumer, BLUE)
        img(root / shop, RED)
    write_partition(root / "list_eval_partition.txt", C2S_HEADER, [" ".join(r) for r in rows])


def test_deepfashion_consumer2shop(tmp_path):
    write_c2s(tmp_path)
    cat = from_deepfashion_consumer2shop(tmp_path)
    assert cat.root == tmp_path.resolve()
    assert cat.products[["product_id", "split", "category"]].values.tolist() == [
        ["id_00000001", "train", "blouse"], ["id_00000007", "val", "dress"], ["id_00000009", "test", "tee"],
    ]
    assert len(cat.images) == 7  # the shared shop image is listed once
    counts = cat.images.groupby(["product_id", "source"]).size().to_dict()
    assert counts[("id_00000001", "street")] == 2 and counts[("id_00000001", "shop")] == 1


def test_deepfashion_consumer2shop_errors(tmp_path):
    swapped = [C2S[0], (C2S[0][1], C2S[0][0], "id_00000001", "train")]
    write_c2s(tmp_path, swapped)
    with pytest.raises(CatalogError, match="listed as both a consumer and a shop image at line 3"):
        from_deepfashion_consumer2shop(tmp_path)
    write_c2s(tmp_path, [C2S[0], (C2S[1][0], C2S[1][1], "id_00000001", "test")])
    with pytest.raises(CatalogError, match="more than one split at line 3"):
        from_deepfashion_consumer2shop(tmp_path)
    write_c2s(tmp_path, C2S[:3])
    (tmp_path / C2S[2][1]).unlink()
    with pytest.raises(CatalogError, match=r"image file not found .* line 5 \('img/DRESSES/Dress/id_00000007/shop_01.jpg'\)"):
        from_deepfashion_consumer2shop(tmp_path)


# ------------------------------------------------------------------------------------------- Fashion-MNIST
def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    magic = magic if magic is not None else (0x803 if array.ndim == 3 else 0x801)
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, kind="train", n=12, compress=True, images=None, labels=None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) if images is None else images
    labels = (np.arange(n) % 10).astype(np.uint8) if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    for what, dims, array in (("images", 3, images), ("labels", 1, labels)):
        payload = idx_bytes(array) if isinstance(array, np.ndarray) else array
        name = f"{kind}-{what}-idx{dims}-ubyte"
        (folder / (name + ".gz" if compress else name)).write_bytes(gzip.compress(payload) if compress else payload)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist(tmp_path, compress):
    pixels, labels = write_mnist(tmp_path / "raw", compress=compress)
    cat = from_fashion_mnist(tmp_path / "raw", cache_dir=tmp_path / "cache", progress=False)
    assert len(cat) == 12 and cat.products["product_id"].tolist()[:2] == ["train-00000", "train-00001"]
    assert cat.products["category"].tolist()[:3] == ["t-shirt/top", "trouser", "pullover"]
    assert cat.products["category"].tolist()[9] == "ankle boot"
    assert set(cat.products["split"]) <= {"train", "val"}
    with Image.open(cat.image_path("train-00005")) as written:
        assert np.array_equal(np.asarray(written), pixels[5])
    assert np.array_equal(read_idx(next((tmp_path / "raw").glob("train-labels*"))), labels)
    stamp = cat.image_path("train-00000").stat().st_mtime_ns
    again = from_fashion_mnist(tmp_path / "raw" / f"train-images-idx3-ubyte{'.gz' if compress else ''}",
                               cache_dir=tmp_path / "cache", progress=False)
    assert again.image_path("train-00000").stat().st_mtime_ns == stamp  # written once, reused
    write_mnist(tmp_path / "raw", kind="t10k", n=5, compress=compress)
    test = from_fashion_mnist(tmp_path / "raw", cache_dir=tmp_path / "cache", kind="t10k", progress=False)
    assert set(test.products["split"]) == {"test"} and len(test) == 5


def test_fashion_mnist_errors(tmp_path):
    good = np.zeros((3, 28, 28), np.uint8)
    write_mnist(tmp_path / "a", n=3, images=idx_bytes(good, magic=0x0D03))
    with pytest.raises(CatalogError, match=r"train-images-idx3-ubyte.gz: magic number 0x00000d03 is not an idx"):
        from_fashion_mnist(tmp_path / "a", cache_dir=tmp_path / "cache", progress=False)
    write_mnist(tmp_path / "b", n=3, images=idx_bytes(good)[:-100])
    with pytest.raises(CatalogError, match="train-images-idx3-ubyte.gz: header announces 3 images of 28x28, the data ends"):
        from_fashion_mnist(tmp_path / "b", cache_dir=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / "fashion-mnist-train").exists()  # nothing half-written
    write_mnist(tmp_path / "c", n=3, labels=np.array([0, 1], np.uint8), images=good)
    with pytest.raises(CatalogError, match="3 images but the labels file has 2 labels"):
        from_fashion_mnist(tmp_path / "c", cache_dir=tmp_path / "cache", progress=False)
    write_mnist(tmp_path / "d", n=3, labels=np.array([0, 1, 12], np.uint8), images=good)
    with pytest.raises(CatalogError, match="train-labels-idx1-ubyte.gz: labels must be 0-9; found 12 at item 2"):
        from_fashion_mnist(tmp_path / "d", cache_dir=tmp_path / "cache", progress=False)
    write_mnist(tmp_path / "e", n=3, labels=idx_bytes(np.array([0, 1, 2], np.uint8)) + b"x", images=good)
    with pytest.raises(CatalogError, match="train-labels-idx1-ubyte.gz: header announces 3 = 3 bytes of data, the file has more"):
        from_fashion_mnist(tmp_path / "e", cache_dir=tmp_path / "cache", progress=False)
    (tmp_path / "f").mkdir()
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST images not found"):
        from_fashion_mnist(tmp_path / "f", cache_dir=tmp_path / "cache")
    (tmp_path / "f" / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b" + b"not gzip")
    (tmp_path / "f" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(CatalogError, match="train-images-idx3-ubyte.gz: cannot read"):
        from_fashion_mnist(tmp_path / "f", cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(ValueError, match="kind must be"):
        from_fashion_mnist(tmp_path / "f", cache_dir=tmp_path / "cache", kind="test")


# ------------------------------------------------------------------------------------------- DVBPR
def jpeg_bytes(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "JPEG")
    return buffer.getvalue()


def write_dvbpr(path: Path, *, bytes_keys=True, items=None) -> None:
    """The DVBPR layout: [user_train, user_validation, user_test, Item, usernum, itemnum] saved as a pickle."""
    key = (lambda s: s.encode()) if bytes_keys else (lambda s: s)
    colours = [RED, BLUE, (30, 200, 30), (200, 200, 30)]
    if items is None:
        items = {i: {key("imgs"): jpeg_bytes(c), key("asin"): f"B00{i}".encode()} for i, c in enumerate(colours)}
    record = lambda pid: {key("productid"): pid, key("reviewerID"): b"A1", key("rating"): 5.0}  # noqa: E731
    user_train = {0: [record(0), record(1)], 1: [record(2)], 2: [record(3), record(0)]}
    user_validation = {0: [record(2)], 1: [record(3)], 2: [record(1)]}
    user_test = {0: [record(3)], 1: [record(0)], 2: [record(2)]}
    np.save(path, np.array([user_train, user_validation, user_test, items, 3, len(items)], dtype=object),
            allow_pickle=True)


def test_dvbpr_refuses_pickles_without_opt_in(tmp_path):
    write_dvbpr(tmp_path / "AmazonMen.npy")
    with pytest.raises(ValueError, match=r"AmazonMen.npy is a pickled .*arbitrary code.*allow_pickle=True"):
        from_dvbpr_npy(tmp_path / "AmazonMen.npy")
    assert not (tmp_path / "dvbpr-AmazonMen").exists()


@pytest.mark.parametrize("bytes_keys", [True, False])
def test_dvbpr_with_opt_in(tmp_path, bytes_keys):
    write_dvbpr(tmp_path / "AmazonMen.npy", bytes_keys=bytes_keys)
    cat = from_dvbpr_npy(tmp_path / "AmazonMen.npy", allow_pickle=True, cache_dir=tmp_path / "cache", progress=False)
    assert cat.root == (tmp_path / "cache" / "dvbpr-AmazonMen").resolve()
    assert cat.products["product_id"].tolist() == [0, 1, 2, 3] and cat.products["asin"].tolist()[1] == "B001"
    assert cat.images["path"].tolist()[0] == "images/0.jpg"
    with Image.open(cat.image_path(1)) as written:
        assert np.asarray(written)[4, 4, 2] > 150  # item 1 is blue
    inter = cat.interactions
    assert inter.groupby("split").size().to_dict() == {"test": 3, "train": 5, "val": 3}
    assert inter[inter["split"] == "train"][["user_id", "product_id"]].values.tolist() == [[0, 0], [0, 1], [1, 2], [2, 3], [2, 0]]
    stamp = cat.image_path(0).stat().st_mtime_ns
    again = from_dvbpr_npy(tmp_path / "AmazonMen.npy", allow_pickle=True, cache_dir=tmp_path / "cache", progress=False)
    assert again.image_path(0).stat().st_mtime_ns == stamp


def test_dvbpr_errors(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(CatalogError, match="plain.npy: holds a plain float64 array"):
        from_dvbpr_npy(tmp_path / "plain.npy", allow_pickle=True)
    (tmp_path / "text.npy").write_text("hello")
    with pytest.raises(CatalogError, match="text.npy: not a NumPy .npy file"):
        from_dvbpr_npy(tmp_path / "text.npy")
    np.save(tmp_path / "short.npy", np.array([{}, {}, 3], dtype=object), allow_pickle=True)
    with pytest.raises(CatalogError, match=r"short.npy: expected \[user_train, .*got 3 entries"):
        from_dvbpr_npy(tmp_path / "short.npy", allow_pickle=True)
    write_dvbpr(tmp_path / "noimg.npy", items={0: {b"asin": b"x"}, 1: {b"imgs": b""}, 2: {}, 3: {}})
    with pytest.raises(CatalogError, match=r"noimg.npy: Item\[0\] has no 'imgs' entry"):
        from_dvbpr_npy(tmp_path / "noimg.npy", allow_pickle=True, progress=False)
    with pytest.raises(FileNotFoundError, match="absent.npy"):
        from_dvbpr_npy(tmp_path / "absent.npy")


def test_loader_names_are_exported():
    from fashionsim import data

    for name in loaders.__all__:
        assert getattr(data, name) is getattr(loaders, name)


def test_old_split_seed_keyword_still_splits_the_same_with_a_future_warning(tmp_path):
    for product in ("a", "b", "c", "d", "e"):
        img(tmp_path / product / "front.png")
    with pytest.warns(FutureWarning, match=r"from_folders\(split_seed=\.\.\.\) is deprecated: pass seed="):
        old = from_folders(tmp_path, split_seed=3)
    assert old.products["split"].tolist() == from_folders(tmp_path, seed=3).products["split"].tolist()
    with pytest.raises(TypeError, match="both split_seed="):
        from_folders(tmp_path, split_seed=3, seed=3)
