"""Checking drawn triplets: the share of each kind, asked for and realised, and the rules each must obey.

>>> requested_proportions(0.9, 0.3).round(2).tolist()
[0.27, 0.63, 0.03, 0.07]
>>> kind_proportions(pd.DataFrame({"kind": ["same_product/in_class", "same_color/out_of_class"]})).tolist()
[0.5, 0.0, 0.0, 0.5]

:func:`check_rules` counts, per rule, the triplets that break it (all zeros when the sampler obeyed).
Taught in notebooks/02_triplet_generation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fashionsim.data.catalog import Catalog
from fashionsim.triplets.index import KINDS, check_probability

__all__ = ["COLUMNS", "requested_proportions", "kind_proportions", "check_rules"]

#: The columns of a triplet table.
COLUMNS = ("query", "positive", "negative", "kind")


def requested_proportions(p_same_product: float = 0.9, p_in_class: float = 0.3) -> pd.Series:
    """The share of each kind the probabilities ask for, indexed by :data:`KINDS`."""
    sp, ic = check_probability(p_same_product, "p_same_product"), check_probability(p_in_class, "p_in_class")
    return pd.Series([sp * ic, sp * (1 - ic), (1 - sp) * ic, (1 - sp) * (1 - ic)], index=list(KINDS),
                     name="requested")


def kind_proportions(triplets: pd.DataFrame) -> pd.Series:
    """The realised share of each kind in ``triplets``, indexed by :data:`KINDS`."""
    if "kind" not in triplets.columns:
        raise ValueError(f"triplets need a 'kind' column; they have {list(triplets.columns)}")
    counts = pd.Series(np.asarray(triplets["kind"], dtype=object)).value_counts()
    unknown = sorted(set(counts.index) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kind(s) {unknown}; expected {list(KINDS)}")
    return (counts.reindex(list(KINDS), fill_value=0) / max(len(triplets), 1)).rename("realised")


def check_rules(cat: Catalog, triplets: pd.DataFrame) -> pd.Series:
    """Count the triplets of ``triplets`` that break each rule (all zeros when the sampler obeyed).

    Rules: ids exist in ``cat``; the positive is not the query; a ``same_product`` positive shares
    the product; a ``same_color`` positive shares category and colour but not the product; an
    ``in_class`` negative shares the category, not the colour; an ``out_of_class`` one another category.
    A missing category or colour never satisfies a rule that compares it.
    """
    missing = [c for c in COLUMNS if c not in triplets.columns]
    if missing:
        raise ValueError(f"triplets are missing column(s) {missing}; they have {list(triplets.columns)}")
    table = cat.image_table().set_index("image_id")[["product_id", "category", "color"]]
    pos = {c: table.index.get_indexer(triplets[c]) for c in ("query", "positive", "negative")}
    known = (pos["query"] >= 0) & (pos["positive"] >= 0) & (pos["negative"] >= 0)
    col = {c: {k: np.asarray(table[k].to_numpy()[np.where(known, pos[c], 0)], dtype=object)
               for k in table.columns} for c in pos}
    kind = pd.Index(list(KINDS)).get_indexer(np.asarray(triplets["kind"], dtype=object))
    q, p, n = col["query"], col["positive"], col["negative"]
    same_prod = p["product_id"] == q["product_id"]
    na = {c: {k: pd.isna(col[c][k]) for k in ("category", "color")} for c in col}
    known_cat = ~na["query"]["category"] & ~na["negative"]["category"]  # every negative rule compares categories
    known_col_p = ~na["query"]["color"] & ~na["positive"]["color"] & ~na["positive"]["category"]
    known_col_n = ~na["query"]["color"] & ~na["negative"]["color"]
    same_cat_p, same_col_p = p["category"] == q["category"], p["color"] == q["color"]
    same_cat_n, same_col_n = n["category"] == q["category"], n["color"] == q["color"]
    same_cat_p, same_col_p = same_cat_p & known_col_p, same_col_p & known_col_p
    same_cat_n = np.where(known_cat, same_cat_n, True)  # an unknown category may be the same one
    diff_col_n = ~same_col_n & known_col_n
    known &= kind >= 0
    counts = {
        "unknown_id": ~(pos["query"] >= 0) | ~(pos["positive"] >= 0) | ~(pos["negative"] >= 0),
        "unknown_kind": kind < 0,
        "positive_is_query": np.asarray(triplets["query"] == triplets["positive"]),
        "same_product_positive": known & (kind // 2 == 0) & ~same_prod,
        "same_color_positive": known & (kind // 2 == 1) & (same_prod | ~same_cat_p | ~same_col_p),
        "in_class_negative": known & (kind % 2 == 0) & (~same_cat_n | ~diff_col_n | ~known_cat),
        "out_of_class_negative": known & (kind % 2 == 1) & same_cat_n,
    }
    return pd.Series({k: int(np.count_nonzero(v)) for k, v in counts.items()}, name="violations")
