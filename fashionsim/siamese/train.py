"""``train_siamese``: the siamese embedding model trained on semi-hard triplets, on the training harness."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim import harness, mining
from fashionsim._compat import renamed
from fashionsim.metrics import DEFAULT_KS
from fashionsim.siamese.model_io import BEST_FILE, load_weights
from fashionsim.siamese.task import SiameseEpochs

__all__ = ["SiameseRun", "train_siamese", "MIN_SELECTION_QUERIES", "ROUTES"]

#: Settings a resumed run must share with the checkpoint it continues.
_RESUME_KEYS = ("image_size", "margin", "batch_triplets", "triplets_per_epoch", "seed", "triplets",
                "learning_rate_decay", "epochs")
#: Fewer evaluation queries than this cannot carry best-epoch selection (recall jumps between evaluations).
MIN_SELECTION_QUERIES = 20
ROUTES = ("mined", "metadata")


@dataclasses.dataclass
class SiameseRun:
    """What :func:`train_siamese` returns.

    ``history``: one list per key, one entry per epoch trained (``epoch``,
    ``loss``, ``d_ap``, ``d_an``, ``active_fraction``, ``mined_*``,
    ``spread``, ``collapsed``, ``seconds``, and ``val_recall@K`` /
    ``val_clean_recall@K`` with None on epochs without evaluation).
    ``margins``: the margins d(a, n) − d(a, p) of each mining round, the first
    one mined by the model before this run's first epoch. ``collapsed``: True
    when any epoch collapsed. ``best_epoch``: with ``select_by``, the
    evaluated epoch whose weights ``model`` holds (else the last epoch); epochs count from 1.
    """

    model: Any
    history: dict[str, list]
    margins: list[np.ndarray]
    collapsed: bool
    train_seconds: float
    checkpoint: Path | None
    config: dict[str, Any]
    best_epoch: int | None = None


def _compile(model, *, margin: float, learning_rate) -> None:
    import keras

    from fashionsim import losses

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=losses.MarginTripletLoss(margin=margin),
        metrics=[
            keras.metrics.MeanMetricWrapper(losses.triplet_ap_distance, name="d_ap"),
            keras.metrics.MeanMetricWrapper(losses.triplet_an_distance, name="d_an"),
            keras.metrics.MeanMetricWrapper(losses.triplet_active_fraction, name="active_fraction", margin=margin),
        ],
    )


def _check_input(model, image_size: int) -> None:
    if tuple(model.input_shape[1:]) != (image_size, image_size, 3):
        raise ValueError(f"the model takes inputs {model.input_shape}, not ({image_size}, {image_size}, 3)")


def _route(cat, triplets: str, *, seed: int, p_same_product: float, p_in_class: float):
    """The metadata sampler (or None for mined pairs); refuses a catalog that cannot feed the route."""
    if triplets not in ROUTES:
        raise ValueError(f"triplets must be one of {list(ROUTES)}, got {triplets!r}")
    if triplets == "metadata":
        from fashionsim.deep_ranking import metadata_sampler

        return metadata_sampler(cat, p_same_product=p_same_product, p_in_class=p_in_class)
    try:
        mining.sample_pairs(cat, 1, seed=0)
    except ValueError as exc:
        raise ValueError(f"{exc}; a catalog of shop photos only can train on metadata triplets "
                         "(triplets=\"metadata\")") from None
    return None


def _selection(cat, select_by, *, triplets, ks, eval_split, min_selection_queries) -> tuple[str | None, list[str]]:
    """The checked ``select_by`` (None when the split has too few queries) and the evaluation's history keys."""
    from fashionsim.deep_ranking import METADATA_KEYS

    prefixes = ("val_recall@", "val_clean_recall@") if triplets == "mined" else METADATA_KEYS
    allowed = [f"{prefix}{k}" for prefix in prefixes for k in ks]
    if select_by is not None and select_by not in allowed:
        raise ValueError(f"select_by must be one of {allowed} or None, got {select_by!r}")
    if select_by is not None and eval_split is None:
        raise ValueError("select_by needs an eval_split to select on")
    if eval_split is not None:
        part = cat.split(eval_split)  # fails early with a clear error on an unknown or empty split
        n_queries = (int((part.images["source"] == "street").sum()) if triplets == "mined"
                     else int(part.products["category"].notna().sum()))
        if select_by is not None and n_queries < min_selection_queries:
            warnings.warn(f"the {eval_split!r} split has {n_queries} evaluation queries, too few to select an epoch "
                          f"on (< {min_selection_queries}): select_by={select_by!r} is dropped, the last epoch is "
                          "kept", RuntimeWarning, stacklevel=4)
            select_by = None
    return select_by, allowed


@renamed(input_size="image_size")
def train_siamese(
    cat,
    *,
    model=None,
    backbone: str = "inception_v3",
    weights: str | os.PathLike | None = None,
    image_size: int = 299,
    epochs: int = 10,
    triplets_per_epoch: int = 700,
    batch_triplets: int = 14,
    margin: float = 0.3,
    learning_rate: float = 1e-4,
    learning_rate_decay: str | None = None,
    eval_every: int = 1,
    eval_split: str | None = "val",
    ks: Iterable[int] = DEFAULT_KS,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    strategy=None,
    seed: int = 0,
    triplets: str = "mined",
    p_same_product: float = 0.9,
    p_in_class: float = 0.3,
    select_by: str | None = None,
    min_selection_queries: int = MIN_SELECTION_QUERIES,
    collapse_eps: float = 1e-3,
    stop_on_collapse: bool = False,
    embed_batch_size: int = 64,
    progress: bool = True,
    verbose: int = 1,
) -> SiameseRun:
    """Train a siamese embedding model on ``cat``'s training products with semi-hard triplets.

    ``cat``: a catalog with a ``split`` column; training pairs come from its
    ``train`` products, evaluation from ``eval_split``. ``model``: an
    embedding model taking [0, 1] images of ``image_size`` (built with
    :func:`fashionsim.models.embedding.build_embedding_model` from
    ``backbone`` and ``weights`` when None; under ``strategy.scope()`` when a
    strategy is given — a model passed in must have been built in that scope).

    Each epoch trains on ``triplets_per_epoch`` freshly mined triplets
    (rounded down to whole batches of ``batch_triplets``; the reference used
    700 and 14, i.e. batches of 42 images), augmented, with the margin triplet
    loss (``margin``, Adam at ``learning_rate``; ``learning_rate_decay="cosine"``
    lowers it along a cosine to 0 at the last step of ``epochs``), then re-mines. Every
    ``eval_every`` epochs and at the last one: recall@``ks`` on
    ``eval_split`` (exact search; full and clean street photos) and, with
    ``out_dir``, an atomic checkpoint in ``out_dir/checkpoint/``.
    ``resume=True`` continues from that checkpoint (model and optimizer state
    loaded from it, so ``model`` must be None; same ``image_size``,
    ``margin``, ``batch_triplets``, ``triplets_per_epoch`` and ``seed``;
    ``epochs`` is the total to reach). A collapsed epoch (mean d(a,p) and
    d(a,n) both below ``collapse_eps``, or embedding spread below it) is
    flagged in the history and warned about (:class:`CollapseWarning`);
    ``stop_on_collapse`` ends training there. ``select_by`` (a history key
    such as ``"val_recall@10"``): return the weights of the evaluated epoch
    that scored highest on it (model selection on ``eval_split``; kept in the
    checkpoint as ``best.weights.h5``) instead of the last epoch's.

    ``triplets``: ``"mined"`` (method 3: (street, shop) pairs of a product
    with semi-hard negatives among the other pairs' shop photos; needs street
    photos) or ``"metadata"`` (method 2, :mod:`fashionsim.deep_ranking`:
    the four kinds of metadata triplet, ``p_same_product`` / ``p_in_class``,
    drawn afresh each epoch, negatives re-mined semi-hard among those their
    rule allows; works with one shop photo per product). The mined route is
    evaluated by street-to-shop recall (``val_recall@K``), the metadata route
    by same-category and same-category-and-colour precision@K
    (``val_category_precision@K``, ``val_color_precision@K``).
    ``eval_split=None``: no evaluation and no selection (a catalog without a
    validation split). A ``select_by`` on fewer than
    ``min_selection_queries`` (:data:`MIN_SELECTION_QUERIES`) evaluation
    queries is warned about and dropped: the last epoch is kept.

    ``verbose``: 0 silent, 1 one line per epoch, 2 also Keras' own epoch log.
    Returns a :class:`SiameseRun`. The epochs run on :mod:`fashionsim.harness`.
    """
    import keras

    from fashionsim.models.embedding import build_embedding_model

    image_size = harness.check_positive("image_size (formerly input_size)", image_size)
    epochs = harness.check_positive("epochs", epochs)
    triplets_per_epoch = harness.check_positive("triplets_per_epoch", triplets_per_epoch)
    batch_triplets = harness.check_positive("batch_triplets", batch_triplets)
    eval_every = harness.check_positive("eval_every", eval_every)
    seed = int(seed)
    ks = tuple(int(k) for k in ks)
    if triplets_per_epoch < batch_triplets:
        raise ValueError(f"triplets_per_epoch ({triplets_per_epoch}) must be >= batch_triplets ({batch_triplets})")
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if learning_rate_decay not in (None, "cosine"):
        raise ValueError(f"learning_rate_decay must be None or 'cosine', got {learning_rate_decay!r}")
    if triplets not in ROUTES:
        raise ValueError(f"triplets must be one of {list(ROUTES)}, got {triplets!r}")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder holding the checkpoint)")
    if resume and model is not None:
        raise ValueError("resume=True loads the model from the checkpoint: do not pass model as well")
    strategy = harness.resolve_strategy(strategy)
    harness.check_replicas(batch_triplets, strategy, "batch_triplets", "(a, p, n) triplets")
    train_cat = cat.split("train")
    sampler = _route(train_cat, triplets, seed=seed, p_same_product=p_same_product, p_in_class=p_in_class)
    select_by, eval_keys = _selection(cat, select_by, triplets=triplets, ks=ks, eval_split=eval_split,
                                      min_selection_queries=min_selection_queries)
    config = {"image_size": image_size, "margin": float(margin), "batch_triplets": batch_triplets,
              "triplets_per_epoch": triplets_per_epoch, "seed": seed, "learning_rate": float(learning_rate),
              "learning_rate_decay": learning_rate_decay, "epochs": epochs if learning_rate_decay else None,
              "eval_split": eval_split, "ks": list(ks), "backbone": backbone if model is None else None,
              "triplets": triplets}
    checkpoints = harness.Checkpoints(out_dir, "siamese") if out_dir is not None else None
    best = harness.BestEpoch(select_by)

    harness.begin(seed)
    if resume:
        state = checkpoints.read(config, keys=_RESUME_KEYS, required=True)
        with strategy.scope():
            model = keras.models.load_model(checkpoints.path / harness.MODEL_FILE, compile=True)
        best.resume(state, lambda: load_weights(model, checkpoints.path / BEST_FILE))
        if learning_rate_decay is None and float(model.optimizer.learning_rate.numpy()) != float(learning_rate):
            model.optimizer.learning_rate.assign(float(learning_rate))
    else:
        state = harness.TrainingState("siamese", config)
        with strategy.scope():
            if model is None:
                model = build_embedding_model(backbone=backbone, image_size=image_size, weights=weights)
            _check_input(model, image_size)
            rate = float(learning_rate)
            if learning_rate_decay == "cosine":  # a schedule of the optimizer's step: resumes with it
                rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=epochs * (triplets_per_epoch
                                                                                          // batch_triplets))
            _compile(model, margin=margin, learning_rate=rate)
    _check_input(model, image_size)

    started_at = state.epoch
    started = time.perf_counter()
    settings = dict(config, ks=ks, verbose=verbose, collapse_eps=collapse_eps, stop_on_collapse=stop_on_collapse,
                    embed_batch_size=embed_batch_size)
    task = SiameseEpochs(model, train_cat, cat, sampler=sampler, settings=settings, eval_keys=eval_keys,
                         strategy=strategy)
    harness.run_epochs(task, state, epochs=epochs, seed=seed, best=best, checkpoints=checkpoints,
                       eval_every=eval_every, checkpoint_every=eval_every, progress=progress, show=verbose >= 1)
    kept = harness.finish(task, state, best, show=verbose >= 1)
    written = checkpoints is not None and (resume or state.epoch > started_at)
    return SiameseRun(model=model, history=state.history, margins=task.margins,
                      collapsed=bool(any(state.history.get("collapsed", []))),
                      train_seconds=time.perf_counter() - started, checkpoint=checkpoints.path if written else None,
                      config=config, best_epoch=kept)
