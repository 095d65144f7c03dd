"""Scoring with a trained BPR model: item vectors once, top-N as one matrix product, cold start.

A user's score for an item is θ_u · f(img_i) (plus β_i for BPR-MF): x_uij is
the difference of two such scores, so ranking by it ranks by the score. Item
vectors are computed once per evaluation (one pass of the item encoder over
the catalog), after which every user's ranking over all items is a matrix
product — never one model call per (user, item). A brand-new item needs only
its picture. Taught in notebook 04.

With a trained model, ``model_scores(model, item_images)`` gives the :class:`FactorScores` and
``users_for_new_item(model, "new_dress.png", n=20)`` the users a new item suits. The ranking itself:

>>> import scipy.sparse as sp
>>> scores = FactorScores(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[3.0, 0.0], [2.0, 1.0], [0.0, 2.0]]))
>>> scores.dense()                 # θ_u · v_i, (n_users, n_items)
array([[3., 2., 0.],
       [0., 1., 2.]], dtype=float32)
>>> seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0]]))
>>> items, values = top_n(scores, users=[0, 1], n=2, exclude=seen)
>>> items.tolist(), values.tolist()
([[1, 2], [2, 1]], [[2.0, 0.0], [2.0, 1.0]])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from fashionsim.recommend._names import ITEM_TOWER, USER_EMBEDDING


class FactorScores:
    """The score matrix θ_u · v_i (+ b_i) of factor models, computed rows at a time on demand.

    Behaves as a read-only (n_users, n_items) array for ``scores[rows]`` (rows an
    int array, a slice or an int), which is all the ranking metrics and
    :func:`top_n` need; ``dense()`` materialises it (small catalogs only).
    """

    def __init__(self, user_vectors: np.ndarray, item_vectors: np.ndarray, item_bias: np.ndarray | None = None):
        self.user_vectors = np.asarray(user_vectors, dtype=np.float32)
        self.item_vectors = np.asarray(item_vectors, dtype=np.float32)
        if self.user_vectors.ndim != 2 or self.item_vectors.ndim != 2 or \
                self.user_vectors.shape[1] != self.item_vectors.shape[1]:
            raise ValueError(f"user_vectors (n_users, d) and item_vectors (n_items, d) must share d; got "
                             f"{self.user_vectors.shape} and {self.item_vectors.shape}")
        self.item_bias = None if item_bias is None else np.asarray(item_bias, dtype=np.float32).ravel()
        if self.item_bias is not None and len(self.item_bias) != len(self.item_vectors):
            raise ValueError(f"item_bias has {len(self.item_bias)} entries for {len(self.item_vectors)} items")

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_vectors), len(self.item_vectors))

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, rows) -> np.ndarray:
        block = self.user_vectors[rows] @ self.item_vectors.T
        if self.item_bias is not None:
            block = block + self.item_bias
        return block

    def dense(self) -> np.ndarray:
        """The whole (n_users, n_items) matrix."""
        return self[:]

    def __repr__(self) -> str:
        return f"FactorScores({self.shape[0]} users × {self.shape[1]} items, d={self.user_vectors.shape[1]})"


def top_n(scores, users: Sequence[int] | np.ndarray, n: int = 10, *, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Each user's ``n`` best items, best first: ``(items, values)``, both (len(users), width).

    ``scores`` is (n_users, n_items) array-like (:class:`FactorScores`, an array,
    ``np.broadcast_to(popularity, shape)``); ``exclude`` a sparse (n_users, n_items)
    matrix, indexed by user code like ``scores``, of items never to recommend
    (what the user already has), or None.

    Excluded items are never returned. When a user has fewer than ``n`` items
    left, fewer are returned: ``width`` is ``min(n, n_items, most items left to
    any of these users)`` and a row with fewer items ends in item ``-1`` with
    value ``-inf`` (:func:`unseen_counts` says how many are real). A user who has
    every item gets a row of ``-1`` only (or width 0 when every user does).
    """
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    n_users, n_items = scores.shape
    if users.size and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(f"user codes must lie in [0, {n_users}), got {users[(users < 0) | (users >= n_users)][:5]}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int in [1, {n_items}], got {n!r}")
    block = np.array(scores[users], dtype=np.float64)
    blocked = np.zeros(block.shape, dtype=bool)
    if exclude is not None:
        if tuple(exclude.shape) != (n_users, n_items):
            raise ValueError(f"exclude must be (n_users, n_items) = {(n_users, n_items)} like scores, indexed by "
                             f"user code; got {tuple(exclude.shape)}")
        rows, cols = exclude[users].nonzero()
        blocked[rows, cols] = True
    left = n_items - blocked.sum(axis=1)
    width = int(min(n, n_items, left.max(initial=0)))
    if width == 0:
        return np.zeros((len(users), 0), dtype=np.int64), np.zeros((len(users), 0), dtype=np.float64)
    # Rank on a key in which every allowed item (even one scored NaN or -inf) beats every excluded one.
    floor = np.finfo(np.float64).min
    key = np.where(np.isnan(block), floor, np.maximum(block, floor))
    key[blocked] = -np.inf
    part = np.argpartition(-key, width - 1, axis=1)[:, :width]
    order = np.argsort(-np.take_along_axis(key, part, axis=1), axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1)
    values = np.take_along_axis(block, items, axis=1)
    missing = np.arange(width)[None, :] >= left[:, None]
    items[missing] = -1
    values[missing] = -np.inf
    return items, values


def unseen_counts(exclude, users: Sequence[int] | np.ndarray, n_items: int) -> np.ndarray:
    """How many items each of ``users`` has not got (``exclude`` as in :func:`top_n`), shape (len(users),)."""
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    if exclude is None:
        return np.full(len(users), n_items, dtype=np.int64)
    rows, cols = exclude[users].nonzero()
    had = np.zeros((len(users), n_items), dtype=bool)
    had[rows, cols] = True
    return n_items - had.sum(axis=1)


# --------------------------------------------------------------------------- from a Keras model
def embed_array(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Run ``model`` (inference mode) over an in-memory array in batches; float32 (n, d).

    Direct calls rather than ``model.predict``: no ``tf.function`` is traced per
    model, so evaluating several models in a loop stays quiet and quick.
    """
    if len(x) == 0:
        raise ValueError("nothing to embed: the array is empty")
    parts = [np.asarray(model(x[k:k + batch_size], training=False)) for k in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float32, copy=False)


def user_vectors(model) -> np.ndarray:
    """θ: the user embedding table of a DVBPR or BPR-MF model, (n_users, K) float32."""
    return np.asarray(model.get_layer(USER_EMBEDDING).embeddings.numpy(), dtype=np.float32)


def item_tower(model):
    """The item encoder f (images in [0, 1] → K) inside a DVBPR model."""
    try:
        return model.get_layer(ITEM_TOWER)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no {ITEM_TOWER!r} layer: not an image (DVBPR) model") from None


def item_vectors(model, items, *, image_size: int | None = None, batch_size: int = 64,
                 progress: bool = False) -> np.ndarray:
    """f(img) for every item, (n_items, K) float32, in one pass of the item tower.

    ``items`` is an array of images (n_items, s, s, 3) in [0, 1] (a small catalog
    decoded once), or a list of image paths, streamed through ``images.dataset``
    by :func:`fashionsim.embed.embed_images` (any catalog size).
    """
    tower = item_tower(model)
    size = int(tower.input_shape[1])
    if isinstance(items, np.ndarray):
        if items.ndim != 4 or items.shape[1:] != tuple(tower.input_shape[1:]):
            raise ValueError(f"item images must be (n, {size}, {size}, 3), got {items.shape}")
        return embed_array(tower, items, batch_size)
    from fashionsim.embed import embed_images

    if image_size is not None and int(image_size) != size:
        raise ValueError(f"image_size {image_size} differs from the model's input size {size}")
    return np.asarray(embed_images(tower, list(items), size, batch_size=batch_size, progress=progress))


def model_scores(model, items=None, **kwargs) -> FactorScores:
    """The (n_users, n_items) scores of a BPR-MF model, or of a DVBPR model over ``items``.

    ``items`` and the keyword arguments are those of :func:`item_vectors`.
    """
    names = {layer.name for layer in model.layers}
    if "item_embedding" in names:
        bias = model.get_layer("item_bias").embeddings.numpy() if "item_bias" in names else None
        return FactorScores(user_vectors(model), model.get_layer("item_embedding").embeddings.numpy(), bias)
    if items is None:
        raise ValueError("a DVBPR model needs the items' images (an array or a list of paths)")
    return FactorScores(user_vectors(model), item_vectors(model, items, **kwargs))


# --------------------------------------------------------------------------- cold start
def _one_image(model, image) -> np.ndarray:
    tower = item_tower(model)
    size = int(tower.input_shape[1])
    if isinstance(image, (str, os.PathLike)):
        from fashionsim.images import load_image

        image = load_image(image, size)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[None]
    if image.shape[1:] != (size, size, 3):
        raise ValueError(f"image must be ({size}, {size}, 3) in [0, 1] (or a path), got {image.shape[1:]}")
    return embed_array(tower, image)


def score_new_item(model, image) -> np.ndarray:
    """Cold start: every user's score for a brand-new item from its image alone, shape (n_users,).

    ``image`` is an array (s, s, 3) in [0, 1] at the model's input size, or a path.
    No interaction with the item is needed: f(img) places it among the items
    users already showed a taste for.
    """
    return user_vectors(model) @ _one_image(model, image)[0]


def users_for_new_item(model, image, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` users a brand-new item suits best, best first: ``(user codes, scores)``."""
    scores = score_new_item(model, image)
    if not 1 <= n <= len(scores):
        raise ValueError(f"n must be in [1, {len(scores)}], got {n}")
    best = np.argsort(-scores, kind="stable")[:n]
    return best, scores[best]
