"""Solutions to the exercises of notebook 02 (triplets from catalog metadata). Try them yourself first.

Each function is one exercise; ``tests/test_exercises.py`` runs them at small sizes and checks the
expected outcome the notebook states.
"""

from __future__ import annotations

import warnings

import pandas as pd


def kind_shares(cat, n: int, p_in_class: float, seed: int = 0) -> pd.Series:
    """Exercise 1: the share of each kind of triplet when in-class negatives are asked ``p_in_class`` of the time."""
    from fashionsim import triplets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", triplets.TripletFallbackWarning)
        df = triplets.generate(cat, n, seed, p_in_class=p_in_class)
    return df["kind"].astype(str).value_counts(normalize=True).reindex(triplets.KINDS, fill_value=0.0)


def street_to_shop_sources(cat, n: int, seed: int = 0) -> pd.DataFrame:
    """Exercise 2: street queries against shop photos; the sources of queries, positives and negatives."""
    from fashionsim import triplets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", triplets.TripletFallbackWarning)
        df = triplets.generate(cat, n, seed, query_sources="street", target_sources="shop")
    source = cat.images.set_index("image_id")["source"]
    return pd.DataFrame({column: source.loc[df[column]].value_counts(normalize=True)
                         for column in ("query", "positive", "negative")}).fillna(0.0)


def one_photo_fallbacks(cat, n: int, seed: int = 0) -> dict[str, float]:
    """Exercise 3: keep one shop photo per product; the share of triplets whose same-product positive fell back."""
    from fashionsim import data, triplets

    shop = cat.images[cat.images["source"] == "shop"].groupby("product_id", sort=False).head(1)
    one = data.Catalog(cat.products, shop, root=cat.root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", triplets.TripletFallbackWarning)
        df = triplets.generate(one, n, seed)
    fallbacks = df.attrs["fallbacks"]
    return {key: value / n for key, value in fallbacks.items()}
