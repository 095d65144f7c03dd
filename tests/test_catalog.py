"""Catalog: the data contract and every validation error (each names the table, column and rows)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from fashionsim.data import Catalog, CatalogError


def tables(tiny_catalog):
    return (tiny_catalog.products.copy(), tiny_catalog.images.copy(), tiny_catalog.interactions.copy(),
            tiny_catalog.root)


def test_valid_catalog_access(tiny_catalog):
    cat = tiny_catalog.validate(check_files=True)
    assert len(cat) == 6 and len(cat.images) == 24
    assert repr(cat).startswith("Catalog(6 products, 24 images, 4 users, 16 interactions")
    path = cat.image_path("p0_0")
    assert path.is_absolute() and path.is_file() and path.is_relative_to(cat.root)
    assert cat.image_paths() == [os.path.join(str(cat.root), p) for p in cat.images["path"]]
    assert cat.image_paths(["p1_2", "p0_0"]) == [str(cat.image_path("p1_2")), str(cat.image_path("p0_0"))]
    table = cat.image_table()
    assert len(table) == 24 and {"category", "color", "split"} <= set(table.columns)
    test = cat.split("test")
    assert set(test.products["product_id"]) == {"p4", "p5"} and set(test.images["product_id"]) == {"p4", "p5"}
    assert set(test.interactions["product_id"]) <= {"p4", "p5"}
    with pytest.raises(KeyError, match="nope"):
        cat.image_path("nope")
    with pytest.raises(KeyError, match="nope"):
        cat.image_paths(["p0_0", "nope"])
    with pytest.raises(ValueError, match="split must be one of"):
        cat.split("holdout")


def test_missing_column(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    with pytest.raises(CatalogError, match=r"products table is missing column\(s\) \['color'\]"):
        Catalog(products.drop(columns="color"), images, inter, root=root)
    with pytest.raises(CatalogError, match=r"images table is missing column\(s\) \['source'\]"):
        Catalog(products, images.drop(columns="source"), inter, root=root)
    with pytest.raises(CatalogError, match=r"interactions table is missing column\(s\) \['split'\]"):
        Catalog(products, images, inter.drop(columns="split"), root=root)
    with pytest.raises(CatalogError, match="must be a pandas DataFrame"):
        Catalog(products.to_dict(), images, root=root)


def test_duplicate_ids(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    dup = pd.concat([products, products.iloc[[2]]], ignore_index=True)
    with pytest.raises(CatalogError, match=r"duplicate product_id in products at row 2 \('p2'\), row 6 \('p2'\)"):
        Catalog(dup, images, inter, root=root)
    images.loc[5, "image_id"] = "p0_0"
    with pytest.raises(CatalogError, match=r"duplicate image_id in images at row 0 \('p0_0'\), row 5"):
        Catalog(products, images, inter, root=root)


def test_missing_image_file(tiny_catalog):
    (tiny_catalog.root / "images" / "p3_1.png").unlink()
    with pytest.raises(CatalogError, match=r"image file not found under .* at row 13 \('images/p3_1.png'\)"):
        tiny_catalog.validate(check_files=True)
    tiny_catalog.validate(check_files=False)  # the tables themselves are fine


@pytest.mark.parametrize("bad", ["../x.png", "/abs.png", "images/../../x.png", "", "C:/x.png", "..\\x.png", "."])
def test_path_escaping_the_root(tiny_catalog, bad):
    products, images, inter, root = tables(tiny_catalog)
    images.loc[3, "path"] = bad
    with pytest.raises(CatalogError, match=r"must be relative and stay inside the root .* row 3"):
        Catalog(products, images, inter, root=root)


def test_symlink_escaping_the_root(tiny_catalog, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes((tiny_catalog.root / "images" / "p0_0.png").read_bytes())
    link = tiny_catalog.root / "images" / "p0_0.png"
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(CatalogError, match=r"resolves outside the root .*symlink.* row 0 \('images/p0_0.png'\)"):
        tiny_catalog.validate(check_files=True)
    with pytest.raises(CatalogError, match="resolves outside the root"):
        tiny_catalog.image_path("p0_0")


def test_empty_catalog_and_products_without_images(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    with pytest.raises(CatalogError, match="the catalog is empty"):
        Catalog(products.iloc[:0], images.iloc[:0], root=root)
    with pytest.raises(CatalogError, match="products but no images"):
        Catalog(products, images.iloc[:0], root=root)
    with pytest.raises(CatalogError, match=r"product\(s\) with no image at row 5 \('p5'\)"):
        Catalog(products, images[images["product_id"] != "p5"], root=root)
    with pytest.raises(CatalogError, match="the catalog is empty"):
        Catalog(products, images, inter, root=root).subset([])


def test_unknown_product_references(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    bad_inter = inter.copy()
    bad_inter.loc[7, "product_id"] = "p99"
    with pytest.raises(CatalogError, match=r"interactions name unknown product_id at row 7 \('p99'\)"):
        Catalog(products, images, bad_inter, root=root)
    images.loc[2, "product_id"] = "p42"
    with pytest.raises(CatalogError, match=r"images name unknown product_id at row 2 \('p42'\)"):
        Catalog(products, images, inter, root=root)


def test_bad_split_and_source_values(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    bad = products.copy()
    bad.loc[1, "split"] = "validation"
    with pytest.raises(CatalogError, match=r"products.split must be one of \['train', 'val', 'test'\]; found row 1"):
        Catalog(bad, images, inter, root=root)
    bad = inter.copy()
    bad.loc[0, "split"] = "dev"
    with pytest.raises(CatalogError, match=r"interactions.split must be one of .* row 0 \('dev'\)"):
        Catalog(products, images, bad, root=root)
    bad = images.copy()
    bad.loc[4, "source"] = "consumer"
    with pytest.raises(CatalogError, match=r"images.source must be one of \['shop', 'street'\]; found row 4"):
        Catalog(products, bad, inter, root=root)


def test_empty_values_and_defaults(tiny_catalog):
    products, images, inter, root = tables(tiny_catalog)
    # Issue 13 / DESIGN.md "Real catalogs": a missing category is an explicit missing value, counted, not refused.
    partial = products.copy()
    partial.loc[2, "category"] = None
    cat = Catalog(partial, images, inter, root=root)
    assert cat.products.loc[2, "category"] is None and cat.missing_metadata()["category"] == 1
    bad = products.copy()
    bad.loc[2, "product_id"] = None
    with pytest.raises(CatalogError, match=r"products.product_id is empty at row 2"):
        Catalog(bad, images, inter, root=root)
    ok = products.copy()
    ok.loc[0, "description"], ok.loc[0, "gender"] = None, None
    cat = Catalog(ok, images, inter, root=root, source="my.csv")
    assert cat.products.loc[0, "description"] == "" and cat.products.loc[0, "gender"] == "unknown"
    bad = images.copy()
    bad.loc[1, "path"] = None
    with pytest.raises(CatalogError, match=r"my.csv: images.path is empty at row 1"):
        Catalog(products, bad, inter, root=root, source="my.csv")
