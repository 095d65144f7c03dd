"""Triplets as Keras input: flat batches of images ordered (a, p, n, a, p, n, ...), streamed by ``tf.data``.

The one ``tf.data`` pipeline for triplets of image ids, whoever drew them: the metadata sampler
(:func:`fashionsim.triplets.generate`, anchor column ``query``) or a mining round
(:func:`fashionsim.training.mine_triplets`, anchor column ``anchor``). The margin triplet losses
(:mod:`fashionsim.losses`) read a batch in that flat layout. Taught in notebooks 02 and 03.

>>> from fashionsim import data, triplets
>>> cat = data.load_demo()
>>> drawn = triplets.generate(cat, 5, seed=0)
>>> [tuple(x.shape) for x, _ in triplet_dataset(cat, drawn, 32, 2, augment=False)]
[(6, 32, 32, 3), (6, 32, 32, 3), (3, 32, 32, 3)]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._random import as_generator

__all__ = ["triplet_dataset", "ANCHOR_COLUMNS"]

#: The anchor column's name: ``query`` (drawn from metadata) or ``anchor`` (mined); the first one present is used.
ANCHOR_COLUMNS = ("query", "anchor")


def _id_columns(triplets: pd.DataFrame) -> list[str]:
    if not isinstance(triplets, pd.DataFrame):
        raise ValueError(f"triplets must be a pandas DataFrame of image ids, got {type(triplets).__name__}")
    anchor = next((c for c in ANCHOR_COLUMNS if c in triplets.columns), None)
    missing = [c for c in ("positive", "negative") if c not in triplets.columns]
    if anchor is None or missing:
        missing = (["query (or anchor)"] if anchor is None else []) + missing
        raise ValueError(f"triplets are missing column(s) {missing}; they have {list(triplets.columns)}")
    return [anchor, "positive", "negative"]


@renamed(size="image_size", input_size="image_size")
def triplet_dataset(cat, triplets: pd.DataFrame, image_size: int, batch_triplets: int, *, augment: bool = True,
                    seed: int | None = None, shuffle: bool = False, fit: str = "stretch",
                    drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of ``(images, targets)`` batches for the margin triplet losses.

    ``triplets``: a DataFrame of image ids of ``cat`` in columns ``query`` (or ``anchor``),
    ``positive`` and ``negative``. ``images``: float32 ``(3 * batch_triplets, image_size,
    image_size, 3)`` in [0, 1], ordered (a, p, n, a, p, n, ...), decoded, augmented (``augment``,
    seeded by ``seed``: the same seed gives the same pictures) and prefetched by
    :func:`fashionsim.images.dataset`; ``targets``: float32 zeros, one per image (Keras wants a
    ``y`` even when the loss reads ``y_pred`` only). ``shuffle`` permutes the triplets once (seeded),
    never inside a triplet. ``drop_remainder`` keeps whole batches only (a training batch split
    across replicas must hold whole triplets); the last batch is otherwise smaller. An unknown
    image id is a ``KeyError`` naming it.
    """
    from fashionsim import images

    if isinstance(batch_triplets, bool) or not isinstance(batch_triplets, (int, np.integer)) or batch_triplets < 1:
        raise ValueError(f"batch_triplets must be a positive int, got {batch_triplets!r}")
    columns = _id_columns(triplets)
    if len(triplets) == 0:
        raise ValueError("triplets is empty: nothing to train on")
    if drop_remainder and len(triplets) < batch_triplets:
        raise ValueError(f"{len(triplets)} triplets cannot fill one batch of {batch_triplets}")
    if shuffle:
        triplets = triplets.iloc[as_generator(seed, name="seed").permutation(len(triplets))]
    ids = np.stack([np.asarray(triplets[c], dtype=object) for c in columns], axis=1).ravel()  # a0, p0, n0, a1, ...
    paths = cat.image_paths(ids)
    return images.dataset(paths, image_size, 3 * int(batch_triplets), augment=augment, seed=seed,
                          labels=np.zeros(len(paths), np.float32), shuffle=False, fit=fit,
                          drop_remainder=drop_remainder)
