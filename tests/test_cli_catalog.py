"""`--catalog` reads every format the loaders know; `catalog import` and `catalog info` (no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fashionsim.cli import main
from fashionsim.commands._catalogs import detect_format, open_catalog
from fashionsim.data import write_catalog
from tests.test_loaders import write_article, write_c2s, write_inshop

from conftest import write_image  # noqa: E402  (tests/conftest.py)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and "--json" in argv else out), err


def folder_per_product(root: Path, n: int = 4, metadata: bool = True) -> Path:
    for i in range(n):
        write_image(root / f"prod{i}" / "shop" / "a.jpg", (40 * i, 30, 200 - 40 * i), size=16)
        write_image(root / f"prod{i}" / "street" / "b.png", (40 * i, 90, 90), size=16)
    if metadata:
        pd.DataFrame({"product_id": [f"prod{i}" for i in range(n)], "category": ["dress", "shirt"] * (n // 2),
                      "color": ["red", "blue"] * (n // 2)}).to_csv(root / "metadata.csv", index=False)
    return root


@pytest.fixture
def formats(tmp_path, tiny_catalog) -> dict[str, Path]:
    csv_folder = write_catalog(tiny_catalog, tiny_catalog.root)
    article_csv, _ = write_article(tmp_path / "article")
    inshop, c2s = tmp_path / "inshop", tmp_path / "c2s"
    write_inshop(inshop)
    write_c2s(c2s)
    return {"csv": csv_folder, "folders": folder_per_product(tmp_path / "photos"), "deepfashion-inshop": inshop,
            "deepfashion-c2s": c2s}, article_csv


def test_every_format_is_detected_and_read(formats):
    folders, article_csv = formats
    for fmt, path in folders.items():
        assert detect_format(path) == fmt, path
        cat = open_catalog(str(path))
        assert len(cat.products) > 0 and cat.images["path"].notna().all()
    assert detect_format(article_csv) == "article"
    cat = open_catalog(str(article_csv), image_root=article_csv.parent / "images")
    assert set(cat.products["product_id"]) == {"1915297", "1845835", "2000001"}
    cat = open_catalog(str(folders["folders"]))
    assert set(cat.products["category"]) == {"dress", "shirt"}          # metadata.csv picked up
    assert set(cat.images["source"]) == {"shop", "street"}
    assert detect_format("demo") == "demo"


def test_unknown_or_missing_catalog_is_one_clear_line(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    for spec, message in ((tmp_path / "empty", "not a catalog fashionsim knows"),
                          (tmp_path / "nowhere", "catalog not found")):
        code, _, err = run(capsys, "catalog", "info", str(spec))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(capsys, "catalog", "info", str(tmp_path / "empty"), "--catalog-format", "csv")
    assert code == 2 and "products.csv" in err


def test_catalog_info_counts_and_problems(capsys, tmp_path):
    photos = folder_per_product(tmp_path / "photos", metadata=False)
    code, info, _ = run(capsys, "catalog", "info", str(photos), "--json")
    assert code == 0
    assert info["products"] == 4 and info["shop_images"] == 4 and info["street_images"] == 4
    problems = " ".join(info["problems"])
    assert "no category" in problems and "no colour" in problems and "validation products" in problems
    assert "no interactions" in problems
    code, text, _ = run(capsys, "catalog", "info", str(photos))
    assert code == 0 and "products: 4" in text and "problems:" in text


def test_catalog_import_copies_or_writes_in_place(capsys, tmp_path, formats):
    folders, article_csv = formats
    photos = folders["folders"]
    code, info, _ = run(capsys, "catalog", "import", str(photos), "--out", str(tmp_path / "mine"), "--json")
    assert code == 0 and info["written"] == str((tmp_path / "mine").resolve())
    assert detect_format(tmp_path / "mine") == "csv"
    imported = open_catalog(str(tmp_path / "mine"))
    assert len(imported.images) == 8 and all(Path(p).is_file() for p in imported.image_paths())
    assert set(imported.products["color"]) == {"red", "blue"}
    # a second import into the same (now full) folder is refused, files untouched
    code, _, err = run(capsys, "catalog", "import", str(photos), "--out", str(tmp_path / "mine"))
    assert code == 2 and "not an empty folder" in err
    # into the photos' own folder: only the CSV files are added
    code, _, _ = run(capsys, "catalog", "import", str(photos), "--out", str(photos), "--link", "--json")
    assert code == 0 and (photos / "products.csv").is_file() and detect_format(photos) == "csv"
    # an article CSV, its images elsewhere
    code, info, _ = run(capsys, "catalog", "import", str(article_csv), "--image-root", str(article_csv.parent / "images"),
                        "--out", str(tmp_path / "from-article"), "--link", "--json")
    assert code == 0 and info["products"] == 3 and info["images"] == 4


def test_every_command_takes_the_catalog_format_flag():
    from fashionsim.cli import build_parser

    parser = build_parser()
    for argv in (["train", "siamese", "--out", "x"], ["embed", "--model", "m.keras", "--out", "x.npy"],
                 ["search", "q.png", "--model", "m", "--index", "i"], ["recommend", "--model", "m", "--user", "u"],
                 ["evaluate", "--out", "x"]):
        args = parser.parse_args(argv + ["--catalog", "somewhere", "--catalog-format", "folders"])
        assert args.catalog == "somewhere" and args.catalog_format == "folders"
