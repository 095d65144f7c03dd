"""What the demo catalog holds, drawn at once: product attributes, the split by product, users' interactions.

Private helper of :mod:`fashionsim.data.demo`. Every draw is vectorised over products (one step per
category at most, never per product) from one seeded ``numpy.random.Generator``, so the same seed
gives the same catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fashionsim.data import _garment_spec as garments
from fashionsim.data._garment_spec import Spec

#: Split by product, stratified by category: one cycle of 20 products (14 train, 3 val, 3 test).
SPLIT_CYCLE = np.array(["train"] * 20, dtype=object)
SPLIT_CYCLE[[3, 10, 16]] = "val"
SPLIT_CYCLE[[6, 13, 19]] = "test"
#: Interactions per user: at least, at most.
MIN_INTERACTIONS, MAX_INTERACTIONS = 5, 40


def _choice_rows(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw: index per row of ``probs`` (n, k) for uniforms ``u`` (n,)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _quota(n: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``n`` in proportion to ``weights`` (largest remainders)."""
    raw = n * weights / weights.sum()
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _pick_named(probs: dict[str, float], u: np.ndarray) -> np.ndarray:
    """Names drawn from ``{name: probability}`` for the uniforms ``u`` (object array)."""
    index = _choice_rows(np.tile(list(probs.values()), (len(u), 1)), u)
    return np.asarray(list(probs), dtype=object)[index]


def _table(mapping: dict[str, dict[str, float]], rows: Sequence[str], cols: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(rows), len(cols)))
    for i, r in enumerate(rows):
        for name, p in mapping.get(r, {}).items():
            out[i, cols.index(name)] = p
    return out


def sample_products(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, list[Spec]]:
    """Vectorised draw of every product attribute; returns the attribute table and the specs."""
    cats, colors, mats, pats = garments.CATEGORIES, garments.COLOR_NAMES, garments.MATERIALS, garments.PATTERNS
    cat = rng.permutation(np.repeat(np.arange(len(cats)), _quota(n, garments.CATEGORY_WEIGHTS)))
    mat = _choice_rows(_table(garments.CATEGORY_MATERIALS, cats, mats)[cat], rng.random(n))

    allowed = np.ones((len(mats), len(colors)))
    for m, names in garments.MATERIAL_COLORS.items():
        allowed[mats.index(m)] = np.isin(colors, names)
    col = _choice_rows((allowed * garments.COLOR_WEIGHTS)[mat], rng.random(n))

    is_acc = np.isin(np.asarray(cats)[cat], garments.ACCESSORIES)
    pat_p = np.where(is_acc[:, None], garments.PATTERN_ACCESSORY, garments.PATTERN_CLOTHING)
    pat = _choice_rows(pat_p, rng.random(n))
    plain_mat = np.isin(np.asarray(mats)[mat], garments.PLAIN_MATERIALS) & (rng.random(n) < 0.85)
    pat[plain_mat] = 0

    # second colour: different from the main one and clearly lighter or darker
    rgb = np.array([garments.COLORS[c] for c in colors], float)
    lum = rgb @ np.array([0.299, 0.587, 0.114])
    contrast = np.abs(lum[:, None] - lum[None, :]) > 55
    col2 = _choice_rows((contrast * garments.COLOR2_WEIGHTS)[col], rng.random(n))

    fit = np.where(is_acc, garments.ACCESSORY_FIT, np.asarray(garments.FITS)[_choice_rows(np.tile(garments.FIT_WEIGHTS, (n, 1)), rng.random(n))])
    gender = np.asarray(garments.GENDERS)[_choice_rows(np.tile(garments.GENDER_WEIGHTS, (n, 1)), rng.random(n))]

    u_var, u_len, u_det = rng.random(n), rng.random(n), rng.random((n, garments.MAX_DETAILS))
    variant = np.empty(n, dtype=object)
    length = np.full(n, "", dtype=object)
    details = np.empty((n, garments.MAX_DETAILS), dtype=object)
    details[:] = ""
    cat_names = np.asarray(cats)[cat]
    for name in cats:  # one vectorised step per category (10), never per product
        rows = cat_names == name
        variant[rows] = _pick_named(garments.VARIANTS[name], u_var[rows])
        if name in garments.LENGTHS:
            length[rows] = _pick_named(garments.LENGTHS[name], u_len[rows])
        for k, (detail, p) in enumerate(garments.DETAILS[name].items()):
            details[rows & (u_det[:, k] < p), k] = detail
    # coherence rules: hooded jackets zip up; straw hats have a brim; heels, dresses and skirts are women's
    details[variant == "hood", 0] = "zip"
    variant[(cat_names == "hat") & (np.asarray(mats)[mat] == "straw")] = "brimmed"
    details[(variant == "brimmed") & (details[:, 1] == "pompom"), 1] = ""
    details[np.isin(variant, ("cap", "beanie")) & (details[:, 0] == "band"), 0] = ""
    gender[(variant == "heel") | np.isin(cat_names, ("dress", "skirt"))] = "women"

    shade = rng.integers(-10, 11, size=(n, 3))
    geom = rng.random((n, 8))
    specs = [
        Spec(
            category=str(cat_names[i]), variant=str(variant[i]), length=str(length[i]),
            details=tuple(d for d in details[i] if d), color=colors[col[i]], color2=colors[col2[i]],
            pattern=pats[pat[i]], material=mats[mat[i]], fit=str(fit[i]), gender=str(gender[i]),
            rgb=tuple(int(v) for v in np.clip(rgb[col[i]] + shade[i], 0, 255)),
            rgb2=tuple(int(v) for v in rgb[col2[i]]), pattern_geom=tuple(float(v) for v in geom[i]),
        )
        for i in range(n)
    ]
    table = pd.DataFrame({
        "category": cat_names, "color": np.asarray(colors)[col], "gender": gender,
        "pattern": np.asarray(pats)[pat], "material": np.asarray(mats)[mat], "fit": fit,
    })
    return table, specs


def split_by_product(categories: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """train / val / test per product (70 / 15 / 15), stratified by category.

    Products are ordered by category then at random, and dealt the split
    cycle in that order, so every category gets its share (within one).
    """
    order = np.lexsort((rng.random(len(categories)), categories))
    split = np.empty(len(categories), dtype=object)
    split[order] = SPLIT_CYCLE[np.arange(len(categories)) % len(SPLIT_CYCLE)]
    return split


def sample_interactions(attrs: pd.DataFrame, n_users: int, rng: np.random.Generator) -> pd.DataFrame:
    """Users pick products by hidden tastes (colour, pattern, category) plus popularity.

    Scores are taste + popularity + Gumbel noise; each user's top ``n_u`` is a
    draw without replacement proportional to exp(taste + popularity). One
    random interaction per user is ``test``, another ``val``, the rest ``train``.
    """
    n = len(attrs)
    codes = {c: pd.Categorical(attrs[c]).codes for c in ("color", "pattern", "category")}
    popularity = rng.normal(0.0, 1.0, n)
    taste = {c: rng.normal(0.0, s, (n_users, codes[c].max() + 1)) for c, s in
             (("color", 1.6), ("pattern", 1.2), ("category", 1.4))}
    score = sum(taste[c][:, codes[c]] for c in codes) + 0.8 * popularity + rng.gumbel(size=(n_users, n))
    high = min(MAX_INTERACTIONS, n)
    counts = np.clip(np.round(np.exp(rng.normal(np.log(12.0), 0.6, n_users))), MIN_INTERACTIONS, high).astype(int)
    ranked = np.argsort(-score, axis=1, kind="stable")[:, :high]
    keep = np.arange(high)[None, :] < counts[:, None]
    users = np.repeat(np.arange(n_users), counts)
    items = ranked[keep]
    # per-user split: a random order within each user; first = test, second = val
    order = np.lexsort((rng.random(len(users)), users))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.empty(len(users), dtype=int)
    position[order] = np.arange(len(users)) - np.repeat(starts, counts)
    split = np.where(position == 0, "test", np.where(position == 1, "val", "train"))
    tidy = np.lexsort((items, users))
    width = max(3, len(str(n_users - 1)))
    return pd.DataFrame({
        "user_id": [f"u{u:0{width}d}" for u in users[tidy]],
        "product_id": items[tidy],  # index; replaced by ids by the caller
        "split": split[tidy],
    })
