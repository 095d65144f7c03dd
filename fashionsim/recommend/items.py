"""One picture per item: which image stands for a product, and decoding a small catalog's pictures once.

A product may have several images; the recommender uses its *first shop
image* (in the images table's order) — the clean seller photo a shop would
show — or, for a product without a shop photo, its first image of any source.
Taught in notebook 04.

>>> from pathlib import Path
>>> from fashionsim.data import Catalog
>>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": "dress", "color": "red",
...                          "gender": "women", "description": "", "split": "train"})
>>> images = pd.DataFrame({"image_id": ["i0", "i1", "i2"], "product_id": ["p0", "p0", "p1"],
...                        "path": ["i0.png", "i1.png", "i2.png"], "source": ["street", "shop", "street"]})
>>> cat = Catalog(products, images)
>>> item_image_ids(cat, ["p0", "p1"]).tolist()      # p0's shop photo; p1 has none, so its first photo
['i1', 'i2']
>>> [Path(p).name for p in item_image_paths(cat, ["p0", "p1"])]
['i1.png', 'i2.png']

``load_item_images(cat, inter.item_ids, size=64)`` decodes them into one (n_items, 64, 64, 3) array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def item_image_ids(cat, item_ids: Sequence) -> np.ndarray:
    """The image id standing for each product of ``item_ids``: its first shop image, else its first image."""
    images = cat.images
    rank = (images["source"] != "shop").to_numpy().astype(np.int8)  # shop photos first, then table order
    order = np.lexsort((np.arange(len(images)), rank))
    first = images.iloc[order].drop_duplicates("product_id", keep="first")
    lookup = pd.Series(first["image_id"].to_numpy(), index=pd.Index(first["product_id"]))
    pos = lookup.index.get_indexer(list(item_ids))
    if (pos < 0).any():
        missing = [item_ids[k] for k in np.flatnonzero(pos < 0)[:5]]
        raise KeyError(f"{cat.source}: product(s) without any image or unknown: {missing}")
    return lookup.to_numpy()[pos]


def item_image_paths(cat, item_ids: Sequence) -> list[str]:
    """Absolute paths of :func:`item_image_ids` of ``item_ids``, in that order."""
    return cat.image_paths(item_image_ids(cat, item_ids))


def load_item_images(cat, item_ids: Sequence, size: int, *, batch_size: int = 64) -> np.ndarray:
    """Decode each item's picture once: float32 (n_items, size, size, 3) in [0, 1].

    For a demo-sized catalog (hundreds of items at 64 px: a few MiB) keeping the
    item pictures in memory makes training fast; they go through
    ``images.dataset`` like everything else. For large catalogs do not do this:
    stream the pictures with ``images.dataset`` (``item_vectors`` on paths does).
    """
    from fashionsim import images

    paths = item_image_paths(cat, item_ids)
    out = np.empty((len(paths), size, size, 3), dtype=np.float32)
    start = 0
    for batch in images.dataset(paths, size, batch_size):
        batch = np.asarray(batch)
        out[start:start + len(batch)] = batch
        start += len(batch)
    if start != len(paths):
        raise RuntimeError(f"decoded {start} item images, expected {len(paths)}")
    return out
