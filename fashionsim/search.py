"""Product search: query photos -> the ``k`` closest products of an index, one entry per product.

An index holds images, and a product often has several (studio shots, angles),
so the ``k`` nearest images may name fewer than ``k`` products.
:func:`search_products` embeds the query photos batch by batch (never all at
once, through :func:`fashionsim.embed.embed_images` and its ``tf.data``
pipeline), asks the index for more images than products, keeps the closest
image of each product, and asks again deeper for the queries still short of
``k`` products. Used by ``fashionsim search`` and notebook 05.

>>> import tempfile, keras, numpy as np
>>> from PIL import Image
>>> from fashionsim.index import ExactIndex
>>> tmp = tempfile.TemporaryDirectory()
>>> folder = tmp.name
>>> Image.new("RGB", (8, 8), (250, 10, 10)).save(f"{folder}/red.png")
>>> mean_colour = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()])
>>> shop = ExactIndex.build([[1.0, 0, 0], [0.9, 0.1, 0], [0, 1.0, 0]], ["a0", "a1", "b0"], "euclidean")
>>> [found] = search_products(mean_colour, shop, [f"{folder}/red.png"], k=2,
...                           products={"a0": "A", "a1": "A", "b0": "B"})
>>> found.product_ids.tolist(), found.image_ids.tolist()
(['A', 'B'], ['a0', 'b0'])
>>> tmp.cleanup()
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.index import SearchIndex

__all__ = ["ProductMatches", "product_keys", "search_products", "unique_products"]

logger = logging.getLogger(__name__)

_FIRST_DEPTH = 4           # images asked per wanted product on the first search (then x4 for the short queries)


@dataclasses.dataclass(frozen=True, eq=False)
class ProductMatches:
    """The closest products of one query image, best first.

    ``product_ids`` (m,) object (None for an indexed image of no known
    product, which then counts as its own product), ``image_ids`` (m,) the
    closest indexed image of each product, ``distances`` (m,) float32 in the
    index's metric. m is ``k``, or fewer when the index holds fewer products.
    """

    query: str
    product_ids: np.ndarray
    image_ids: np.ndarray
    distances: np.ndarray

    def __len__(self) -> int:
        return len(self.image_ids)

    def records(self) -> list[dict[str, Any]]:
        """One plain dict per product: ``product_id``, ``image_id``, ``distance`` (JSON-ready)."""
        return [{"product_id": _plain(p), "image_id": _plain(i), "distance": float(d)}
                for p, i, d in zip(self.product_ids, self.image_ids, self.distances)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def product_keys(index_ids: np.ndarray, products: Mapping | pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """Per indexed image: a product code (images of one product share it) and the product id (None if unknown).

    ``products`` maps image ids to product ids (a mapping, a Series indexed by
    image id, or a catalog, whose images table is used); None: every image is
    its own product. An image missing from the mapping is its own product too.

    >>> codes, names = product_keys(np.array(["a0", "a1", "x"]), {"a0": "A", "a1": "A"})
    >>> codes.tolist(), names.tolist()
    ([0, 0, 1], ['A', 'A', None])
    """
    n = len(index_ids)
    if products is None:
        return np.arange(n), np.full(n, None, dtype=object)
    if hasattr(products, "images") and isinstance(getattr(products, "images"), pd.DataFrame):   # a Catalog
        products = products.images.set_index("image_id")["product_id"]
    table = products if isinstance(products, pd.Series) else pd.Series(dict(products), dtype=object)
    if not table.index.is_unique:
        raise ValueError("products maps some image id to more than one product")
    names = table.reindex(pd.Index(index_ids, dtype=object)).to_numpy(dtype=object)
    known = pd.notna(names)
    names = np.where(known, names, None)
    codes = np.empty(n, dtype=np.int64)
    codes[known] = pd.factorize(names[known])[0]
    codes[~known] = codes[known].max(initial=-1) + 1 + np.arange(int((~known).sum()))
    return codes, names


def unique_products(keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Which ranked items to keep: the first item of each product, at most ``k`` per row.

    ``keys`` (n_queries, depth) product codes of ranked items, best first.
    Returns ``(keep (n_queries, depth) bool, n_products (n_queries,) int)``:
    ``n_products`` counts every distinct product in the row (it may exceed ``k``).

    >>> keep, found = unique_products(np.array([[3, 3, 1, 3, 2]]), k=2)
    >>> keep.astype(int).tolist(), found.tolist()
    ([[1, 0, 1, 0, 0]], [3])
    """
    order = np.argsort(keys, axis=1, kind="stable")               # equal keys stay in rank order
    ranked = np.take_along_axis(keys, order, axis=1)
    first_sorted = np.ones(keys.shape, dtype=bool)
    first_sorted[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    return first & (np.cumsum(first, axis=1) <= k), first.sum(axis=1)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return int(k)


def _search_chunk(index: SearchIndex, vectors: np.ndarray, k: int, codes: np.ndarray, deduplicate: bool,
                  search_k: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, distances, keep) of a chunk of query vectors, deep enough for ``k`` products per query."""
    n_items = len(index)
    options = {} if search_k is None else {"search_k": search_k}
    depth = min(n_items, k * _FIRST_DEPTH if deduplicate else k)
    found = index.search(vectors, depth, **options)
    positions, distances = found.positions, found.distances
    keep, n_products = unique_products(codes[positions], k)
    short = np.flatnonzero(n_products < k)
    while len(short) and depth < n_items:                          # ask again deeper for the short queries
        depth = min(n_items, depth * _FIRST_DEPTH)
        again = index.search(vectors[short], depth, **options)
        more_keep, n_products = unique_products(codes[again.positions], k)
        width = again.positions.shape[1]
        positions = _widen(positions, width)
        distances = _widen(distances, width)
        keep = _widen(keep, width)
        positions[short], distances[short], keep[short] = again.positions, again.distances, more_keep
        short = short[n_products < k]
    return positions, distances, keep


def _widen(arr: np.ndarray, width: int) -> np.ndarray:
    if arr.shape[1] >= width:
        return arr
    out = np.zeros((arr.shape[0], width), dtype=arr.dtype)
    out[:, :arr.shape[1]] = arr
    return out


def search_products(model: Any, index: SearchIndex, image_paths: Sequence[str | os.PathLike], k: int, *,
                    products: Mapping | pd.Series | Any | None = None, batch_size: int = 64,
                    search_k: int | None = None, check_fingerprint: bool = True) -> list[ProductMatches]:
    """The ``k`` closest products of each query photo, best first (one :class:`ProductMatches` per photo).

    ``model``: the Keras embedding model whose vectors ``index`` holds (an
    :class:`~fashionsim.index.EmbeddingIndex` or
    :class:`~fashionsim.index.ExactIndex` of image ids). ``products`` maps the
    indexed image ids to product ids (a mapping, a Series, or the catalog);
    several images of one product then count once, by their closest image.
    Without it every image is its own product. The photos are decoded and
    embedded ``batch_size`` at a time. With ``check_fingerprint`` an index that
    records another model's fingerprint is refused (ValueError); an
    unreadable photo raises :class:`fashionsim.images.ImageDecodeError` naming it.
    ``search_k`` is passed to Annoy.
    """
    from fashionsim.embed import embed_images, model_fingerprint, model_image_size

    k = _check_k(k)
    paths = [os.fspath(p) for p in image_paths]
    if not paths:
        raise ValueError("image_paths is empty: give at least one query image")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    dim = int(model.output_shape[-1])
    if dim != index.dim:
        raise ValueError(f"the model makes {dim}-dimensional vectors, the index holds {index.dim}-dimensional ones")
    if check_fingerprint and index.fingerprint is not None and index.fingerprint != model_fingerprint(model):
        raise ValueError(f"the index was built from vectors of model {index.fingerprint}, not of this model; "
                         "re-embed and rebuild the index")
    codes, names = product_keys(index.ids, products)
    image_size = model_image_size(model)
    results: list[ProductMatches] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        vectors = embed_images(model, chunk, image_size, batch_size=batch_size, progress=False)
        positions, distances, keep = _search_chunk(index, vectors, k, codes, products is not None, search_k)
        for query, row_pos, row_dist, row_keep in zip(chunk, positions, distances, keep):
            pos = row_pos[row_keep]
            results.append(ProductMatches(query=query, product_ids=names[pos], image_ids=index.ids[pos],
                                          distances=row_dist[row_keep].astype(np.float32)))
        logger.debug("searched %d of %d query images", min(start + batch_size, len(paths)), len(paths))
    return results
