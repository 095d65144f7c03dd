"""The triplet sampler: (query, positive, negative) images drawn from catalog metadata, by four rules.

The four kinds of the deep-ranking article (DESIGN.md §2):

* positive ``same_product``: another image of the query's product (``p_same_product``, 0.9);
  positive ``same_color``: an image of *another* product of the same category and colour (0.1);
* negative ``in_class``: an image of the same category in another colour (``p_in_class``, 0.3);
  negative ``out_of_class``: an image of another category (0.7).

A triplet's ``kind`` is ``"<positive>/<negative>"``, e.g. ``"same_product/in_class"`` (:data:`KINDS`).
Queries are drawn as the article draws them: a category by its image frequency and a colour by its
image frequency, independently, kept when that category has that colour (so the query group has
probability ∝ p(category)·p(colour) among the groups that exist), then an image of that group
uniformly (``query_weighting="image"``: every query image equally likely).

Which images: by default every image of the catalog, shop and street, may be a query, a positive
or a negative; ``query_sources`` and ``target_sources`` (``"shop"``, ``"street"``) restrict the
query pool and the positive/negative pool, e.g. street queries against shop photos.

Draws the metadata cannot honour fall back, are counted in ``df.attrs["fallbacks"]`` and warned
about (:class:`TripletFallbackWarning`):

* ``same_product->same_color``: the product has no other image; a same-colour positive is used.
* ``same_color->same_product``: no other product shares the category and colour; a same-product one.
* ``in_class->out_of_class``: the query's category has one colour only; an out-of-class negative.
* ``out_of_class->in_class``: the catalog has one category only; an in-class negative.

(All of them judged among the images allowed as positives and negatives.)

Missing metadata (a product without a category or a colour: ``None`` / NaN) is not refused. A
product without a category is left out entirely (every negative rule compares categories); one
without a colour is never a ``same_color`` positive nor an ``in_class`` negative, and as a query it
gets a ``same_product`` positive and an ``out_of_class`` negative (requests for the other kinds fall
back, counted as above). ``df.attrs["missing"]`` counts those products and their images.

Images that can have no positive or no negative at all (their product has one image and is alone
in its category and colour; or every image shares their category and colour) are never queries:
their number is ``df.attrs["excluded_queries"]``. When no image can be a query, ``ValueError``.

Everything is vectorised over integer codes: target images are sorted once by (category, colour,
product), so every pool is a contiguous range of that order and each draw is "a uniform position
in a range, skipping one sub-range" (e.g. the category minus the query's colour group).

The fitted index and the draws over integer codes: :mod:`fashionsim.triplets.index`. Taught in
notebooks/02_triplet_generation.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._random import Seed, as_generator
from fashionsim.data.catalog import SOURCES, Catalog
from fashionsim.triplets.index import FALLBACKS, KINDS, TripletIndex, check_probability

__all__ = ["TripletFallbackWarning", "TripletSampler", "generate"]


class TripletFallbackWarning(UserWarning):
    """Some triplets could not follow the requested kind, or some images cannot be queries."""


def _check_sources(sources: Sequence[str] | None, name: str) -> tuple[str, ...]:
    if sources is None:
        return SOURCES
    if isinstance(sources, str):
        sources = (sources,)
    sources = tuple(sources)
    bad = [s for s in sources if s not in SOURCES]
    if bad or not sources:
        raise ValueError(f"{name} must be a non-empty subset of {list(SOURCES)}, got {list(sources)}")
    return sources


def _product_rows(product_ids: pd.Series, image_products: pd.Series) -> np.ndarray:
    """Row in the products table of each image's product (one factorize: faster than Index.get_indexer)."""
    codes, _ = pd.factorize(pd.concat([product_ids, image_products], ignore_index=True))
    row = np.full(codes.max() + 1, -1, dtype=np.int64)
    row[codes[:len(product_ids)]] = np.arange(len(product_ids))
    rows = row[codes[len(product_ids):]]
    if (rows < 0).any():
        raise ValueError(f"images name unknown product_id(s), e.g. {image_products.iloc[np.argmin(rows)]!r}")
    return rows


class TripletSampler:
    """Fit on a catalog once, then draw as many triplet sets as needed (scikit-learn manners).

    ``query_sources`` / ``target_sources`` choose which images (``"shop"``, ``"street"``) may be
    queries, and positives or negatives (default: every image for both; street-to-shop training
    uses ``query_sources="street", target_sources="shop"``).

    >>> import pandas as pd
    >>> from fashionsim.data import Catalog
    >>> products = pd.DataFrame({"product_id": [f"p{k}" for k in range(8)], "category": ["dress"] * 4 + ["shoe"] * 4,
    ...                          "color": ["red", "red", "blue", "blue"] * 2, "gender": "women", "description": "",
    ...                          "split": "train"})
    >>> images = pd.DataFrame({"image_id": [f"i{k}" for k in range(16)], "product_id": [f"p{k // 2}" for k in range(16)],
    ...                        "path": [f"{k}.png" for k in range(16)], "source": "shop"})
    >>> sampler = TripletSampler(p_in_class=0.5).fit(Catalog(products, images))
    >>> df = sampler.sample(1000, seed=0)
    >>> df.columns.tolist(), len(df)
    (['query', 'positive', 'negative', 'kind'], 1000)
    """

    def __init__(self, *, p_same_product: float = 0.9, p_in_class: float = 0.3,
                 query_sources: Sequence[str] | None = None, target_sources: Sequence[str] | None = None,
                 query_weighting: str = "category_color") -> None:
        self.p_same_product = p_same_product
        self.p_in_class = p_in_class
        self.query_sources = query_sources
        self.target_sources = target_sources
        self.query_weighting = query_weighting

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"TripletSampler({args})"

    def fit(self, cat: Catalog) -> TripletSampler:
        """Index ``cat``'s images by product, (category, colour) and category. Returns ``self``."""
        if not isinstance(cat, Catalog):
            raise TypeError(f"fit expects a fashionsim.data.Catalog, got {type(cat).__name__}")
        check_probability(self.p_same_product, "p_same_product")
        check_probability(self.p_in_class, "p_in_class")
        query_sources = _check_sources(self.query_sources, "query_sources")
        target_sources = _check_sources(self.target_sources, "target_sources")
        products, images = cat.products, cat.images
        prod_pos = _product_rows(products["product_id"], images["product_id"])
        no_category = products["category"].isna().to_numpy()
        no_color = products["color"].isna().to_numpy() & ~no_category
        category = pd.factorize(products["category"])[0][prod_pos]  # -1 where missing
        color = pd.factorize(products["color"])[0][prod_pos]
        source = images["source"]
        self.index_ = TripletIndex.from_codes(
            prod_pos, category, color, query_mask=source.isin(query_sources).to_numpy(),
            target_mask=source.isin(target_sources).to_numpy(), query_weighting=self.query_weighting)
        self.image_ids_ = images["image_id"].array  # taking from pandas' own array keeps its dtype, no re-boxing
        self.missing_ = {"products_without_category": int(no_category.sum()),
                         "images_without_category": self.index_.missing["category"],
                         "products_without_color": int(no_color.sum()),
                         "images_without_color": self.index_.missing["color"]}
        if no_category.any() or no_color.any():
            warnings.warn(f"{self.missing_['products_without_category']} product(s) lack a category (their "
                          f"{self.missing_['images_without_category']} images are left out) and "
                          f"{self.missing_['products_without_color']} lack a colour (never same-colour positives "
                          "nor in-class negatives)", TripletFallbackWarning, stacklevel=2)
        if self.index_.n_excluded:
            warnings.warn(f"{self.index_.n_excluded} of {self.index_.n_candidates} images cannot be queries "
                          "(no possible positive or negative); they are left out", TripletFallbackWarning,
                          stacklevel=2)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "index_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this TripletSampler is not fitted yet; call fit(cat) first")

    @renamed(random_state="seed")
    def sample(self, n: int, seed: Seed = None) -> pd.DataFrame:
        """``n`` triplets: columns query, positive, negative (image ids) and kind (categorical of KINDS).

        ``df.attrs`` holds ``fallbacks`` (counts per FALLBACKS entry), ``excluded_queries`` and
        ``missing`` (products and images without a category or a colour); a
        :class:`TripletFallbackWarning` says when any fallback happened.
        """
        df = self._frame(n, seed)
        _warn_fallbacks(df.attrs["fallbacks"], n)
        return df

    @renamed(random_state="seed")
    def sample_chunks(self, n: int, chunk_size: int = 1_000_000, seed: Seed = None) -> Iterator[pd.DataFrame]:
        """``n`` triplets as DataFrames of at most ``chunk_size`` rows (for :func:`write_triplets`).

        Fallbacks are counted per chunk (``attrs``) and warned about once, after the last chunk.
        """
        self._check_fitted()
        if not isinstance(chunk_size, numbers.Integral) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        rng = as_generator(seed, name="seed")
        total = dict.fromkeys(FALLBACKS, 0)
        for start in range(0, int(n), int(chunk_size)):
            chunk = self._frame(min(int(chunk_size), int(n) - start), rng)
            for key, count in chunk.attrs["fallbacks"].items():
                total[key] += count
            yield chunk
        _warn_fallbacks(total, n)

    def _frame(self, n: int, seed: Seed) -> pd.DataFrame:
        self._check_fitted()
        d = self.index_.draw(n, seed, p_same_product=self.p_same_product, p_in_class=self.p_in_class)
        ids = self.image_ids_
        df = pd.DataFrame({"query": ids.take(d.query), "positive": ids.take(d.positive),
                           "negative": ids.take(d.negative),
                           "kind": pd.Categorical.from_codes(d.kind, categories=list(KINDS))})
        df.attrs["fallbacks"] = d.fallbacks
        df.attrs["excluded_queries"] = self.index_.n_excluded
        df.attrs["missing"] = dict(self.missing_)
        return df


def _warn_fallbacks(fallbacks: dict[str, int], n: int) -> None:
    if any(fallbacks.values()):
        shown = ", ".join(f"{k}: {v}" for k, v in fallbacks.items() if v)
        warnings.warn(f"{sum(fallbacks.values())} fallback draw(s) in {n} triplets ({shown})",
                      TripletFallbackWarning, stacklevel=3)


def generate(cat: Catalog, n: int, seed: Seed = 0, *, p_same_product: float = 0.9,
             p_in_class: float = 0.3, query_sources: Sequence[str] | None = None,
             target_sources: Sequence[str] | None = None, query_weighting: str = "category_color") -> pd.DataFrame:
    """Draw ``n`` triplets from ``cat``'s metadata (the functional form of :class:`TripletSampler`).

    Returns columns ``query, positive, negative`` (image ids) and ``kind`` (one of :data:`KINDS`);
    same seed, same triplets. Example: ``generate(cat, 800_000, seed=0, p_in_class=0.5)``.
    """
    sampler = TripletSampler(p_same_product=p_same_product, p_in_class=p_in_class, query_sources=query_sources,
                             target_sources=target_sources, query_weighting=query_weighting)
    df = sampler.fit(cat)._frame(n, seed)
    _warn_fallbacks(df.attrs["fallbacks"], n)
    return df
