"""The triplet sampler's core: grouped integer indices over image codes, and bulk draws.

Target images (positives, negatives) are sorted once by (category, colour, product), so every
pool is a contiguous range of that order: a product's images, a (category, colour) group, a
category, the whole catalog. Each draw is then "a uniform position in a range, skipping one
sub-range" (the query itself; the query's product inside its group; the query's colour inside its
category; the query's category inside the catalog): no rejection loops, no DataFrame filtering.

:class:`TripletIndex` works on integer codes so benchmarks and other data sources can use it
without a :class:`~fashionsim.data.Catalog`; :mod:`fashionsim.triplets.sampler` wraps it with image ids.
Three products (two images each) of one category, in two colours:

>>> index = TripletIndex.from_codes(product=np.array([0, 0, 1, 1, 2, 2]), category=np.zeros(6, int),
...                                 color=np.array([0, 0, 0, 0, 1, 1]))
>>> d = index.draw(1000, seed=0)                   # positions into the arrays
>>> same_product = d.kind < 2                      # KINDS[0] and KINDS[1]
>>> bool((index.product[d.positive] == index.product[d.query])[same_product].all())
True
>>> bool((d.kind % 2 == 0).all()), d.fallbacks["out_of_class->in_class"] > 0   # one category: all in-class
(True, True)

Taught in notebooks/02_triplet_generation.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from fashionsim._random import Seed, as_generator

KINDS = ("same_product/in_class", "same_product/out_of_class", "same_color/in_class", "same_color/out_of_class")
FALLBACKS = ("same_product->same_color", "same_color->same_product", "in_class->out_of_class",
             "out_of_class->in_class")
QUERY_WEIGHTINGS = ("category_color", "image")
BLOCK = 1 << 17  # triplets drawn per block: bounds the temporaries of TripletIndex.draw


@dataclasses.dataclass(frozen=True)
class Draw:
    """Triplets as row positions into the image arrays; ``kind`` indexes :data:`KINDS`."""

    query: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    kind: np.ndarray
    fallbacks: dict[str, int]


def _runs(sorted_codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each code's run in ``sorted_codes`` (both 0 when the code is absent)."""
    start = np.zeros(n_codes, dtype=np.int64)
    count = np.bincount(sorted_codes, minlength=n_codes).astype(np.int64)
    if len(sorted_codes):
        first = np.empty(len(sorted_codes), dtype=bool)
        first[0] = True
        np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=first[1:])
        where = np.flatnonzero(first)
        start[sorted_codes[where]] = where
    return start, count


def _codes(values: np.ndarray, name: str, missing: bool = False) -> np.ndarray:
    codes = np.asarray(values)
    if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-d array of integer codes, got shape {codes.shape} dtype {codes.dtype}")
    if len(codes) and codes.min() < (-1 if missing else 0):
        raise ValueError(f"{name} codes must be >= {-1 if missing else 0} (found {codes.min()})")
    return codes.astype(np.int64, copy=False)


def _mask(mask: np.ndarray | None, n: int, name: str) -> np.ndarray:
    if mask is None:
        return np.ones(n, dtype=bool)
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(f"{name} must be a boolean array of shape ({n},), got {mask.dtype} {mask.shape}")
    return mask


def check_probability(value: float, name: str) -> float:
    """``value`` as a float when it is a probability in [0, 1], else a ``ValueError`` naming ``name``."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _skip_draw(u: np.ndarray, start, count, skip_at, skip_len) -> np.ndarray:
    """Uniform position in ``[start, start + count + skip_len)`` avoiding ``[skip_at, skip_at + skip_len)``.

    ``count`` is the size of the range without the skipped part (>= 1); ``skip_at`` is relative to ``start``.
    """
    r = np.minimum((u * count).astype(np.int64), count - 1)
    return start + r + skip_len * (r >= skip_at)


@dataclasses.dataclass(frozen=True)
class TripletIndex:
    """Grouped integer indices of a catalog, built once and drawn from many times.

    ``order`` lists the target images (positives and negatives) sorted by (category, colour,
    product); ``cat_*``, ``grp_*`` and ``prod_*`` give the start and length of each category,
    (category, colour) group and product in it. ``queries`` are the eligible query images sorted
    by group; a query's group is drawn from ``q_groups`` with probabilities ``q_prob``.
    """

    product: np.ndarray
    category: np.ndarray
    group: np.ndarray
    pos_in_order: np.ndarray
    order: np.ndarray
    cat_start: np.ndarray
    cat_count: np.ndarray
    grp_start: np.ndarray
    grp_count: np.ndarray
    prod_start: np.ndarray
    prod_count: np.ndarray
    queries: np.ndarray
    q_groups: np.ndarray
    q_start: np.ndarray
    q_count: np.ndarray
    q_prob: np.ndarray
    query_weighting: str
    n_candidates: int
    grp_known: np.ndarray | None = None
    cat_known: np.ndarray | None = None
    missing: dict | None = None

    @property
    def n_excluded(self) -> int:
        """Query candidates that can have no positive or no negative at all."""
        return self.n_candidates - len(self.queries)

    @classmethod
    def from_codes(
        cls,
        product: np.ndarray,
        category: np.ndarray,
        color: np.ndarray,
        *,
        query_mask: np.ndarray | None = None,
        target_mask: np.ndarray | None = None,
        query_weighting: str = "category_color",
    ) -> TripletIndex:
        """Index images given as integer codes (one entry per image, shape ``(n_images,)``).

        A product must have one category and one colour. ``query_mask`` marks the images that
        may be queries, ``target_mask`` those that may be positives or negatives (default: all).

        Code ``-1`` is a missing category or colour; such images are left out of the rules
        that need the field. Without a category an image is neither a query nor a positive
        or negative (every negative rule compares categories). Without a colour (category
        known) it is never a ``same_color`` positive nor an ``in_class`` negative, and as a
        query it gets a ``same_product`` positive and an ``out_of_class`` negative (a request
        for the other kind falls back and is counted); it stays an ``out_of_class`` negative
        for other categories. ``missing`` counts the images concerned.
        """
        product = _codes(product, "product")
        category, color = _codes(category, "category", missing=True), _codes(color, "color", missing=True)
        n = len(product)
        if len(category) != n or len(color) != n:
            raise ValueError(f"product, category and color must have one entry per image; got lengths "
                             f"{n}, {len(category)}, {len(color)}")
        if query_weighting not in QUERY_WEIGHTINGS:
            raise ValueError(f"query_weighting must be one of {list(QUERY_WEIGHTINGS)}, got {query_weighting!r}")
        is_query, is_target = _mask(query_mask, n, "query_mask"), _mask(target_mask, n, "target_mask")
        no_category, no_color = category < 0, (color < 0) & (category >= 0)
        missing = {"category": int(np.count_nonzero(no_category)), "color": int(np.count_nonzero(no_color))}
        if missing["category"]:
            is_query, is_target = is_query & ~no_category, is_target & ~no_category
            category = np.where(no_category, 0, category)
        if n and not (is_query.any() and is_target.any()) and missing["category"]:
            raise ValueError(f"no triplet can be drawn: {missing['category']} of {n} images lack a category, "
                             "and the others do not make a query and a target pool")
        if n == 0 or not is_query.any() or not is_target.any():
            empty = "query" if n == 0 or not is_query.any() else "target"
            raise ValueError(f"no triplet can be drawn: the {empty} pool is empty (no image selected as {empty})")
        n_cat, n_col, n_prod = int(category.max()) + 1, int(color.max()) + 2, int(product.max()) + 1
        unknown_color = n_col - 1  # the last colour code of every category: missing colour (sorted last)
        color = np.where(color < 0, unknown_color, color)
        if n_cat * n_col * n_prod >= 2**62:
            raise ValueError("too many distinct codes to index; factorize them to 0..k-1 first")
        group = category * n_col + color
        n_grp = n_cat * n_col
        product_group = np.zeros(n_prod, dtype=np.int64)
        product_group[product] = group
        mixed = np.flatnonzero(product_group[product] != group)
        if len(mixed):
            raise ValueError(f"product code {int(product[mixed[0]])} appears with more than one category or colour "
                             f"(image {int(mixed[0])})")

        targets = np.flatnonzero(is_target)
        key = group[targets] * n_prod + product[targets]
        order = targets[np.argsort(key, kind="stable")]
        cat_start, cat_count = _runs(category[order], n_cat)
        grp_start, grp_count = _runs(group[order], n_grp)
        prod_start, prod_count = _runs(product[order], n_prod)
        pos_in_order = np.full(n, -1, dtype=np.int64)
        pos_in_order[order] = np.arange(len(order))
        grp_known = np.arange(n_grp) % n_col != unknown_color
        cat_known = cat_count - grp_count[np.arange(n_cat) * n_col + unknown_color]

        candidates = np.flatnonzero(is_query)
        p, c, g = product[candidates], category[candidates], group[candidates]
        own = (pos_in_order[candidates] >= 0).astype(np.int64)
        known = grp_known[g]
        has_positive = (prod_count[p] - own > 0) | (known & (grp_count[g] - prod_count[p] > 0))
        has_negative = (len(order) - cat_count[c] > 0) | (known & (cat_known[c] - grp_count[g] > 0))
        queries = candidates[has_positive & has_negative]
        if len(queries) == 0:
            reasons = []
            if not has_positive.any():
                reasons.append("no query has another image of its product, nor another product of its category "
                               "and colour, to be its positive")
            if not has_negative.any():
                reasons.append("every target image shares the query's category and colour, so no negative exists")
            reason = "; and ".join(reasons) or "no query has both a possible positive and a possible negative"
            raise ValueError(f"no triplet can be drawn: {reason} ({len(candidates)} query candidates, "
                             f"{len(targets)} target images)")
        queries = queries[np.argsort(group[queries], kind="stable")]
        q_start_all, q_count_all = _runs(group[queries], n_grp)
        q_groups = np.flatnonzero(q_count_all)
        if query_weighting == "category_color":
            p_cat = np.bincount(category[candidates], minlength=n_cat) / len(candidates)
            p_col = np.bincount(color[candidates], minlength=n_col) / len(candidates)
            weights = p_cat[q_groups // n_col] * p_col[q_groups % n_col]
        else:
            weights = q_count_all[q_groups].astype(float)
        return cls(product, category, group, pos_in_order, order, cat_start, cat_count, grp_start, grp_count,
                   prod_start, prod_count, queries, q_groups, q_start_all[q_groups], q_count_all[q_groups],
                   weights / weights.sum(), query_weighting, len(candidates), grp_known, cat_known, missing)

    def draw(self, n: int, seed: Seed = None, *, p_same_product: float = 0.9,
             p_in_class: float = 0.3) -> Draw:
        """Draw ``n`` triplets as image positions (``seed``: int, Generator or None); see :mod:`fashionsim.triplets`.

        Works in blocks of :data:`BLOCK` triplets, so temporary memory stays bounded for any ``n``.
        """
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        p_same_product = check_probability(p_same_product, "p_same_product")
        p_in_class = check_probability(p_in_class, "p_in_class")
        rng = as_generator(seed, name="seed")
        n = int(n)
        out = Draw(np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int8),
                   dict.fromkeys(FALLBACKS, 0))
        for lo in range(0, n, BLOCK):
            self._draw_block(slice(lo, min(n, lo + BLOCK)), rng, p_same_product, p_in_class, out)
        return out

    def _draw_block(self, rows: slice, rng: np.random.Generator, p_same_product: float, p_in_class: float,
                    out: Draw) -> None:
        m = rows.stop - rows.start
        if self.query_weighting == "category_color":
            k = len(self.q_groups)
            if k <= m:  # iid group draws = multinomial counts in a random order (faster than a cdf search)
                gi = np.repeat(np.arange(k), rng.multinomial(m, self.q_prob))
                rng.shuffle(gi)
            else:
                gi = np.minimum(np.searchsorted(np.cumsum(self.q_prob), rng.random(m), side="right"), k - 1)
            slot = self.q_start[gi] + np.minimum((rng.random(m) * self.q_count[gi]).astype(np.int64),
                                                 self.q_count[gi] - 1)
        else:
            slot = np.minimum((rng.random(m) * len(self.queries)).astype(np.int64), len(self.queries) - 1)
        q = out.query[rows] = self.queries[slot]
        p, g, own = self.product[q], self.group[q], self.pos_in_order[q]
        pstart, pcount = self.prod_start[p], self.prod_count[p]
        gstart, gcount = self.grp_start[g], self.grp_count[g]

        # Positive: the product's other images, or the group's images minus the product's run.
        n_same_product = pcount - (own >= 0)
        known = self.grp_known[g] if self.grp_known is not None else np.ones(m, dtype=bool)
        n_same_color = np.where(known, gcount - pcount, 0)
        want = rng.random(m) < p_same_product
        same_product = np.where(want, n_same_product > 0, n_same_color == 0)
        own_rel = np.where(own >= 0, own - pstart, np.iinfo(np.int64).max)
        out.positive[rows] = self.order[_skip_draw(
            rng.random(m), np.where(same_product, pstart, gstart),
            np.where(same_product, n_same_product, n_same_color),
            np.where(same_product, own_rel, pstart - gstart), np.where(same_product, 1, pcount))]
        out.fallbacks[FALLBACKS[0]] += int(np.count_nonzero(want & ~same_product))
        out.fallbacks[FALLBACKS[1]] += int(np.count_nonzero(~want & same_product))

        # Negative: the category minus the query's group, or the whole order minus the category.
        c = self.category[q]
        cstart, ccount = self.cat_start[c], self.cat_count[c]
        n_in = np.where(known, (self.cat_known[c] if self.cat_known is not None else ccount) - gcount, 0)
        n_out = len(self.order) - ccount
        want = rng.random(m) < p_in_class
        in_class = np.where(want, n_in > 0, n_out == 0)
        out.negative[rows] = self.order[_skip_draw(
            rng.random(m), np.where(in_class, cstart, 0), np.where(in_class, n_in, n_out),
            np.where(in_class, gstart - cstart, cstart), np.where(in_class, gcount, ccount))]
        out.fallbacks[FALLBACKS[2]] += int(np.count_nonzero(want & ~in_class))
        out.fallbacks[FALLBACKS[3]] += int(np.count_nonzero(~want & in_class))
        out.kind[rows] = 2 * ~same_product + ~in_class
