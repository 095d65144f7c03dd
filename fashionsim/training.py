"""Siamese training with semi-hard mining (method 3) or metadata triplets (method 2): the public names.

The loop of the street-to-shop reference, made observable and restartable, on the one training
harness (:mod:`fashionsim.harness`):

1. mine: draw (street, shop) pairs of training products, embed them with
   the current model and give each pair its semi-hard negative
   (:func:`mine_triplets`, :mod:`fashionsim.siamese.mine`);
2. train one epoch on those triplets, augmented, as flat (a, p, n, ...)
   batches with the margin triplet loss (:mod:`fashionsim.losses`), logging
   the mean d(a, p), the mean d(a, n) and the fraction of triplets whose
   loss is non-zero;
3. re-mine with the updated model; the spread of its embeddings and the
   epoch's distances tell whether the embedding **collapsed** (every vector
   at the same point: distances → 0, loss stuck at the margin), which is
   reported as a :class:`CollapseWarning` and a flag in the history;
4. every ``eval_every`` epochs: recall@K of the validation street photos
   searching the validation shop photos (exact search), and an atomic
   checkpoint (``.keras`` model with its optimizer + the harness's JSON state) that
   ``resume=True`` continues from.

Where things live: :mod:`fashionsim.siamese.train` (:func:`train_siamese`),
:mod:`~fashionsim.siamese.task` (one epoch), :mod:`~fashionsim.siamese.mine`,
:mod:`~fashionsim.siamese.evaluate`, :mod:`~fashionsim.siamese.model_io`,
:mod:`~fashionsim.siamese.report`; the input pipeline is :mod:`fashionsim.triplet_data`.
Taught in notebook 03; ``fashionsim train`` calls :func:`train_siamese`.
"""

from __future__ import annotations

import pandas as pd

from fashionsim._compat import renamed
from fashionsim.harness import CHECKPOINT_DIR, MODEL_FILE, STATE_FILE
from fashionsim.metrics import DEFAULT_KS
from fashionsim.siamese.evaluate import evaluate_retrieval
from fashionsim.siamese.mine import MinedTriplets, embedding_spread, mine_triplets
from fashionsim.siamese.model_io import BEST_FILE, load_checkpoint, save_model
from fashionsim.siamese.report import CollapseWarning
from fashionsim.siamese.train import MIN_SELECTION_QUERIES, ROUTES, SiameseRun, train_siamese

__all__ = [
    "CollapseWarning", "MinedTriplets", "SiameseRun", "DEFAULT_KS", "mine_triplets", "triplet_dataset",
    "evaluate_retrieval", "embedding_spread", "train_siamese", "save_model", "load_checkpoint",
    "CHECKPOINT_DIR", "STATE_FILE", "MODEL_FILE", "BEST_FILE", "MIN_SELECTION_QUERIES", "ROUTES",
]


@renamed(input_size="image_size")
def triplet_dataset(cat, triplets: pd.DataFrame, *, image_size: int, batch_triplets: int, seed: int | None,
                    augment: bool = True, drop_remainder: bool = True):
    """The siamese trainer's input: :func:`fashionsim.triplet_data.triplet_dataset` in whole batches only."""
    from fashionsim import triplet_data

    return triplet_data.triplet_dataset(cat, triplets, image_size, batch_triplets, seed=seed, augment=augment,
                                        drop_remainder=drop_remainder)
