"""Tag labels per image: every image of a product gets the product's tag vector."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fashionsim.data.catalog import SOURCES, Catalog

__all__ = ["LabelledImages", "labelled_images", "check_sources"]


@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """Images with their product's tag vector: ``image_ids`` (n,), ``paths`` (n,), ``labels`` (n, n_tags) float32."""

    image_ids: np.ndarray
    paths: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.image_ids)


def check_sources(sources: Sequence[str] | None) -> tuple[str, ...]:
    """``sources`` as a tuple (default: every image source), or a ValueError naming the allowed ones.

    >>> check_sources(None), check_sources(["shop"])
    (('shop', 'street'), ('shop',))
    """
    if sources is None:
        return SOURCES
    sources = tuple(sources)
    bad = [s for s in sources if s not in SOURCES]
    if bad or not sources:
        raise ValueError(f"sources must be a non-empty subset of {list(SOURCES)}, got {list(sources)}")
    return sources


def labelled_images(cat: Catalog, extractor, *, sources: Sequence[str] | None = None) -> LabelledImages:
    """Every image of ``cat`` (of the given ``sources``) with its product's labels from a fitted ``extractor``.

    The descriptions are tagged once per product; the label rows are then
    gathered per image by integer position (no per-row lookups).
    """
    sources = check_sources(sources)
    products = cat.products
    Y = extractor.transform(products["description"])
    table = cat.images[cat.images["source"].isin(sources)]
    pos = pd.Index(products["product_id"]).get_indexer(table["product_id"])
    return LabelledImages(
        image_ids=table["image_id"].to_numpy(),
        paths=cat.image_paths(table["image_id"]),
        labels=Y[pos].astype(np.float32),
    )
