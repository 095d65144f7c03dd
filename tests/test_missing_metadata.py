"""Products without a category, a colour or a description: the samplers leave them out of the rules that
need the field and count them, instead of refusing the catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fashionsim import mining
from fashionsim.data import Catalog
from fashionsim.triplets import KINDS, TripletFallbackWarning, TripletIndex, TripletSampler, check_rules, generate

quiet = pytest.mark.filterwarnings("ignore::fashionsim.triplets.TripletFallbackWarning")


def partial_catalog(seed: int = 0, n_products: int = 60) -> Catalog:
    """3 categories × 3 colours, 2 shop + 1 street image per product; then some categories and colours removed.

    Built complete (so it passes whatever ``Catalog`` checks today), then values set to None / NaN.
    """
    rng = np.random.default_rng(seed)
    products, images = [], []
    for k in range(n_products):
        products.append(dict(product_id=f"p{k}", category=["dress", "shirt", "shoe"][k % 3],
                             color=["red", "blue", "green"][(k // 3) % 3], gender="women",
                             description=f"item {k}", split="train"))
        for s, source in enumerate(["shop", "shop", "street"]):
            images.append(dict(image_id=f"p{k}_{s}", product_id=f"p{k}", path=f"img/p{k}_{s}.png", source=source))
    cat = Catalog(pd.DataFrame(products), pd.DataFrame(images))
    no_category = rng.choice(n_products, 8, replace=False)
    rest = np.setdiff1d(np.arange(n_products), no_category)
    no_color = rng.choice(rest, 10, replace=False)
    cat.products.loc[no_category, "category"] = None
    cat.products.loc[no_color[:5], "color"] = None
    cat.products.loc[no_color[5:], "color"] = np.nan
    cat.products.loc[no_category[:3], "description"] = ""
    return cat


def _meta(cat: Catalog, ids) -> pd.DataFrame:
    return cat.image_table().set_index("image_id").loc[list(ids), ["product_id", "category", "color"]]


@quiet
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_triplets_leave_out_what_the_rules_cannot_judge(seed):
    cat = partial_catalog(seed)
    df = generate(cat, 20_000, seed=seed, p_same_product=0.5, p_in_class=0.5)
    assert (check_rules(cat, df) == 0).all()
    q, p, n = _meta(cat, df["query"]), _meta(cat, df["positive"]), _meta(cat, df["negative"])
    kind = np.asarray(df["kind"], dtype=object)
    # no image without a category takes part at all
    for part in (q, p, n):
        assert part["category"].notna().all()
    # a colourless image is never a same-colour positive nor an in-class negative, nor asks for them as a query
    same_color, in_class = np.char.startswith(kind.astype(str), "same_color"), np.char.endswith(kind.astype(str),
                                                                                                   "in_class")
    assert p["color"].to_numpy()[same_color].tolist() == [c for c in p["color"].to_numpy()[same_color] if pd.notna(c)]
    assert pd.notna(n["color"].to_numpy()[in_class]).all()
    colourless_query = q["color"].isna().to_numpy()
    assert colourless_query.any() and not (same_color & colourless_query).any()
    assert not (in_class & colourless_query).any()
    # ... but is still a query (same product / out of class) and an out-of-class negative
    assert (kind[colourless_query] == "same_product/out_of_class").all()
    assert n["color"].isna().any()
    # every kind still occurs, and the report counts what was left out
    assert set(kind) == set(KINDS)
    assert df.attrs["missing"] == {"products_without_category": 8, "images_without_category": 24,
                                   "products_without_color": 10, "images_without_color": 30}
    assert df.attrs["fallbacks"]["same_color->same_product"] > 0 and df.attrs["fallbacks"]["in_class->out_of_class"] > 0


def test_sampler_warns_once_about_missing_metadata_and_counts_it():
    cat = partial_catalog()
    with pytest.warns(TripletFallbackWarning, match="8 product\\(s\\) lack a category"):
        sampler = TripletSampler().fit(cat)
    assert sampler.missing_["products_without_color"] == 10
    with pytest.warns(TripletFallbackWarning):
        df = sampler.sample(1_000, seed=0)
    assert df.attrs["missing"] == sampler.missing_


def test_complete_catalogs_report_nothing_missing():
    cat = partial_catalog()
    full = Catalog(cat.products.fillna({"category": "dress", "color": "red"}), cat.images)
    df = TripletSampler(p_same_product=1.0, p_in_class=0.0).fit(full).sample(100, seed=0)
    assert df.attrs["missing"] == {"products_without_category": 0, "images_without_category": 0,
                                   "products_without_color": 0, "images_without_color": 0}


def test_index_codes_minus_one_are_missing():
    # products 0, 1: category 0 red; product 2: category 0, no colour; product 3: no category; product 4: category 1
    product = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    category = np.array([0, 0, 0, 0, 0, 0, -1, -1, 1, 1])
    color = np.array([0, 0, 0, 0, -1, -1, 0, 0, 0, 0])
    index = TripletIndex.from_codes(product, category, color)
    assert index.missing == {"category": 2, "color": 2}
    d = index.draw(5_000, 0, p_same_product=0.5, p_in_class=1.0)
    assert not np.isin(d.query, [6, 7]).any() and not np.isin(d.positive, [6, 7]).any()
    assert not np.isin(d.negative, [6, 7]).any()
    in_class = d.kind % 2 == 0
    assert not np.isin(d.negative[in_class], [4, 5]).any()  # the colourless product is never an in-class negative
    same_color = d.kind // 2 == 1
    assert not np.isin(d.positive[same_color], [4, 5]).any() and not np.isin(d.query[same_color], [4, 5]).any()
    assert np.isin(d.negative, [4, 5]).any()  # it is an out-of-class negative for category 1
    with pytest.raises(ValueError, match="lack a category"):
        TripletIndex.from_codes(np.array([0, 1]), np.array([-1, -1]), np.array([0, 0]))
    with pytest.raises(ValueError, match=">= -1"):
        TripletIndex.from_codes(np.array([0, 1]), np.array([-2, 0]), np.array([0, 0]))


def test_check_rules_never_accepts_missing_values():
    cat = partial_catalog()
    t = cat.image_table()
    no_cat = t.loc[t["category"].isna(), "image_id"].iloc[0]
    no_col = t.loc[t["color"].isna() & t["category"].notna(), "image_id"].iloc[0]
    same_cat = t.loc[(t["category"] == t.set_index("image_id").loc[no_col, "category"]) & t["color"].notna(),
                     "image_id"].iloc[0]
    bad = pd.DataFrame({"query": [no_col, same_cat, same_cat], "positive": [f"{no_col[:-2]}_1", same_cat[:-2] + "_1",
                                                                              same_cat[:-2] + "_1"],
                        "negative": [same_cat, no_col, no_cat],
                        "kind": ["same_product/in_class", "same_product/in_class", "same_product/out_of_class"]})
    counts = check_rules(cat, bad)
    assert counts["in_class_negative"] == 2 and counts["out_of_class_negative"] == 1


def test_sample_pairs_ignores_missing_metadata_and_reports():
    cat = partial_catalog()
    pairs = mining.sample_pairs(cat, 500, seed=0)
    assert len(pairs) == 500 and pairs["product_id"].nunique() > 40  # products without category are drawn too
    assert set(cat.products.loc[cat.products["category"].isna(), "product_id"]) & set(pairs["product_id"])
    assert pairs.attrs["products"] == 60 and pairs.attrs["excluded_products"] == 0
    assert pairs.attrs["missing_metadata"] == {"category": 8, "color": 10, "description": 3}


@quiet
def test_catalog_built_with_missing_values_samples_too():
    """Built with the missing values in place (the catalog accepts them), not set afterwards."""
    cat = partial_catalog()
    rebuilt = Catalog(cat.products, cat.images)
    df = generate(rebuilt, 2_000, seed=0)
    assert (check_rules(rebuilt, df) == 0).all()
    assert df.attrs["missing"]["products_without_category"] == 8
    assert df.attrs["missing"]["products_without_color"] == 10
