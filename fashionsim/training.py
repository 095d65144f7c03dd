"""Siamese training with offline semi-hard mining, street-to-shop evaluation, checkpoints and resume.

The loop of the street-to-shop reference, made observable and restartable:

1. mine: draw (street, shop) pairs of training products, embed them with
   the current model and give each pair its semi-hard negative
   (:func:`mine_triplets`, :mod:`fashionsim.mining`);
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
   checkpoint (``.keras`` model with its optimizer + a JSON state) that
   ``resume=True`` continues from.

Training runs under a ``tf.distribute`` strategy when one is given. Taught
in notebook 03; ``fashionsim train`` calls :func:`train_siamese`.

>>> run = train_siamese(cat, input_size=75, epochs=10, triplets_per_epoch=700, out_dir="runs/siamese")  # doctest: +SKIP
>>> run.history["val_recall@10"][-1]                                                                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionsim import mining
from fashionsim._io import atomic_dir, atomic_path
from fashionsim._progress import progress as _progress
from fashionsim._progress import report as _report

__all__ = [
    "CollapseWarning", "MinedTriplets", "SiameseRun", "DEFAULT_KS", "mine_triplets", "triplet_dataset",
    "evaluate_retrieval", "embedding_spread", "train_siamese", "save_model", "load_checkpoint",
    "CHECKPOINT_DIR", "STATE_FILE", "MODEL_FILE", "BEST_FILE",
]

logger = logging.getLogger(__name__)

DEFAULT_KS = (1, 3, 5, 10, 25, 50, 100)
CHECKPOINT_DIR = "checkpoint"
MODEL_FILE = "model.keras"
BEST_FILE = "best.weights.h5"
STATE_FILE = "state.json"
#: Settings a resumed run must share with the checkpoint it continues.
_RESUME_KEYS = ("input_size", "margin", "batch_triplets", "triplets_per_epoch", "seed", "triplets",
                "learning_rate_decay", "epochs")
#: Fewer evaluation queries than this cannot carry best-epoch selection (recall jumps between evaluations).
MIN_SELECTION_QUERIES = 20
ROUTES = ("mined", "metadata")


class CollapseWarning(RuntimeWarning):
    """The embedding collapsed: all vectors (nearly) at one point, the triplet loss stuck at the margin."""


# ------------------------------------------------------------------------------------------ mining
@dataclasses.dataclass
class MinedTriplets:
    """One mining round.

    ``triplets``: a DataFrame with one row per (street, shop) pair: ``anchor``,
    ``positive``, ``negative`` (image ids), ``product_id``,
    ``negative_product_id``, ``d_ap``, ``d_an`` and ``margin`` = d_an − d_ap
    (squared L2 of the model's embeddings). ``spread``: mean squared distance
    of the embedded images to their centroid (0 = collapsed; 1 for unit
    vectors spread evenly over the sphere).
    """

    triplets: pd.DataFrame
    spread: float
    n_images: int

    def summary(self, margin: float) -> dict[str, float]:
        """Mean distances, the semi-hard fraction (margin > 0) and the fraction inside the loss margin."""
        t = self.triplets
        return {
            "mined_d_ap": float(t["d_ap"].mean()),
            "mined_d_an": float(t["d_an"].mean()),
            "mined_semihard_fraction": float((t["margin"] > 0).mean()),
            "mined_active_fraction": float((t["margin"] < margin).mean()),
            "spread": self.spread,
        }


def embedding_spread(vectors: np.ndarray) -> float:
    """Mean squared L2 distance of the rows of ``vectors`` (n, d) to their mean: 0 when they all coincide."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) == 0:
        raise ValueError(f"vectors must be a non-empty (n, d) array, got shape {vectors.shape}")
    return float(((vectors - vectors.mean(axis=0)) ** 2).sum(axis=1).mean())


def mine_triplets(
    model,
    cat,
    n: int,
    *,
    input_size: int,
    seed: Any = None,
    batch_size: int = 64,
    progress: bool = False,
) -> MinedTriplets:
    """Draw ``n`` (street, shop) pairs of ``cat`` and give each its semi-hard negative under ``model``.

    Pairs come from :func:`fashionsim.mining.sample_pairs` (products in
    proportion to their street photos); every distinct image is embedded once;
    the negative of a pair is a shop photo of another drawn pair
    (:func:`fashionsim.mining.semihard_negatives`).

    >>> mined = mine_triplets(model, cat.split("train"), 700, input_size=75, seed=0)   # doctest: +SKIP
    >>> mined.triplets[["anchor", "positive", "negative", "margin"]].head()             # doctest: +SKIP
    """
    from fashionsim.embed import embed_images

    pairs = mining.sample_pairs(cat, n, seed)
    if pairs["label"].nunique() < 2:
        raise ValueError(
            f"{getattr(cat, 'source', 'catalog')}: the {n} pairs drawn all come from one product, so there is "
            "no negative; the catalog needs at least two products with street and shop photos"
        )
    wanted = pd.unique(np.concatenate([pairs["street"].to_numpy(), pairs["shop"].to_numpy()]))
    vectors = embed_images(model, cat.image_paths(wanted), input_size, batch_size=batch_size, progress=progress)
    position = pd.Index(wanted)
    anchors = vectors[position.get_indexer(pairs["street"])]
    positives = vectors[position.get_indexer(pairs["shop"])]
    negatives, margins = mining.semihard_negatives(anchors, positives, pairs["label"].to_numpy(), return_margins=True)
    d_ap = ((anchors.astype(np.float64) - positives) ** 2).sum(axis=1)
    triplets = pd.DataFrame({
        "anchor": pairs["street"].to_numpy(),
        "positive": pairs["shop"].to_numpy(),
        "negative": pairs["shop"].to_numpy()[negatives],
        "product_id": pairs["product_id"].to_numpy(),
        "negative_product_id": pairs["product_id"].to_numpy()[negatives],
        "d_ap": d_ap,
        "d_an": d_ap + margins,
        "margin": margins,
    })
    return MinedTriplets(triplets=triplets, spread=embedding_spread(vectors), n_images=len(wanted))


def triplet_dataset(cat, triplets: pd.DataFrame, *, input_size: int, batch_triplets: int, seed: int | None,
                    augment: bool = True, drop_remainder: bool = True):
    """The siamese trainer's input: :func:`fashionsim.triplet_data.triplet_dataset` in whole batches."""
    from fashionsim import triplet_data

    return triplet_data.triplet_dataset(cat, triplets, input_size, batch_triplets, seed=seed, augment=augment,
                                        drop_remainder=drop_remainder)


# ------------------------------------------------------------------------------------------ evaluation
def evaluate_retrieval(
    model,
    cat,
    split: str = "val",
    *,
    input_size: int,
    ks: Iterable[int] = DEFAULT_KS,
    index: str = "exact",
    clean: bool = True,
    batch_size: int = 64,
    progress: bool = False,
    return_vectors: bool = False,
    **recall_options: Any,
) -> dict[str, Any]:
    """Street-to-shop recall@K of ``model`` on one split: street photos search the split's shop photos.

    Returns ``{"full": result, "clean": result or None}`` where each result is
    :func:`fashionsim.metrics.street_to_shop_recall`'s dict (``recall``,
    ``chance``, ``map_at_r``, ...; with ``index="annoy"`` also
    ``annoy_recall``, Annoy's recall against exact search). ``clean``: also
    the street photos without occlusion, when the catalog marks them
    (a boolean ``clean`` column). ``return_vectors`` adds ``vectors`` and
    ``ids`` (the split's embeddings).
    """
    from fashionsim.embed import embed_images
    from fashionsim.retrieval_tasks import street_to_shop_recall

    part = cat.split(split)
    table = part.images
    ids = table["image_id"].to_numpy()
    vectors = embed_images(model, part.image_paths(ids), input_size, batch_size=batch_size, progress=progress)
    ks = tuple(ks)
    out: dict[str, Any] = {
        "full": street_to_shop_recall((vectors, ids), cat, split, ks=ks, index=index, **recall_options),
        "clean": None,
    }
    if clean and "clean" in table.columns:
        out["clean"] = street_to_shop_recall((vectors, ids), cat, split, ks=ks, index=index, clean_only=True,
                                             **recall_options)
    if return_vectors:
        out.update(vectors=vectors, ids=ids)
    return out


# ------------------------------------------------------------------------------------------ checkpoints
def save_model(model, path: str | os.PathLike) -> Path:
    """Save ``model`` to ``path`` (``.keras``) atomically, without its optimizer or training configuration."""
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras, got {path}")
    bare = model
    if getattr(model, "optimizer", None) is not None:  # a fresh, uncompiled copy: no optimizer state in the file
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
    with atomic_path(path) as tmp:
        bare.save(tmp)
    return path


def load_checkpoint(out_dir: str | os.PathLike, *, compile: bool = True):
    """``(model, state)`` from ``out_dir/checkpoint/`` (written by :func:`train_siamese`)."""
    import keras

    import fashionsim.losses  # noqa: F401 - registers the losses and metrics a compiled model names
    import fashionsim.models.embedding  # noqa: F401 - registers L2Normalize

    folder = Path(out_dir) / CHECKPOINT_DIR
    model_path, state_path = folder / MODEL_FILE, folder / STATE_FILE
    if not model_path.is_file() or not state_path.is_file():
        raise FileNotFoundError(f"no checkpoint in {folder}: {MODEL_FILE} and {STATE_FILE} are both needed")
    state = json.loads(state_path.read_text())
    return keras.models.load_model(model_path, compile=compile), state


def _write_checkpoint(out_dir: Path, model, state: dict, best_weights: list | None) -> Path:
    """Model (with optimizer), JSON state and the best weights so far, replaced together in one folder."""
    with atomic_dir(out_dir / CHECKPOINT_DIR) as tmp:
        model.save(tmp / MODEL_FILE)
        if best_weights is not None:
            _save_weights(model, best_weights, tmp / BEST_FILE)
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1, allow_nan=False))
    return out_dir / CHECKPOINT_DIR


def _save_weights(model, weights: list, path: Path) -> None:
    current = model.get_weights()
    model.set_weights(weights)
    try:
        model.save_weights(path)
    finally:
        model.set_weights(current)


def _load_weights(model, path: Path) -> list:
    current = model.get_weights()
    model.load_weights(path)
    weights = model.get_weights()
    model.set_weights(current)
    return weights


# ------------------------------------------------------------------------------------------ training
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
    evaluated epoch whose weights ``model`` holds (else the last epoch).
    """

    model: Any
    history: dict[str, list]
    margins: list[np.ndarray]
    collapsed: bool
    train_seconds: float
    checkpoint: Path | None
    config: dict[str, Any]
    best_epoch: int | None = None


def _epoch_seeds(seed: int, epoch: int) -> tuple[int, int]:
    """(mining seed, augmentation seed) of one epoch: the same for a resumed run as for an uninterrupted one."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(2)
    return int(state[0]), int(state[1] % (2**31 - 1))


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


def _check_input(model, input_size: int) -> None:
    if tuple(model.input_shape[1:]) != (input_size, input_size, 3):
        raise ValueError(f"the model takes inputs {model.input_shape}, not ({input_size}, {input_size}, 3)")


def _collapse_message(entry: dict[str, Any], margin: float, eps: float) -> str:
    head = (f"the embedding collapsed at epoch {entry['epoch']}: mean d(a,p) {entry['d_ap']:.2e}, mean d(a,n) "
            f"{entry['d_an']:.2e} during training, spread {entry['spread']:.2e} at inference, loss "
            f"{entry['loss']:.3f} (margin {margin}). ")
    if entry["d_ap"] < eps and entry["d_an"] < eps:
        return head + ("Every image maps to nearly the same vector, so the loss sits at the margin and "
                       "gives no direction: lower the learning rate, check the data, prefer semi-hard to hardest "
                       "negatives.")
    return head + ("The training batches still separate, but in inference mode every image gets nearly the "
                   "same vector: the BatchNormalization moving statistics lag behind the weights (few steps, "
                   "from scratch). Train longer, lower the BatchNorm momentum, or start from pretrained weights.")


def _is_collapsed(d_ap: float, d_an: float, spread: float, eps: float) -> bool:
    return bool((d_ap < eps and d_an < eps) or spread < eps)


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _log_line(entry: dict[str, Any], epochs: int, ks: Sequence[int]) -> str:
    text = (f"epoch {entry['epoch']}/{epochs}: loss {entry['loss']:.3f}  d(a,p) {entry['d_ap']:.3f}  "
            f"d(a,n) {entry['d_an']:.3f}  active {entry['active_fraction']:.0%}  spread {entry['spread']:.3f}")
    shown = [k for k in ks if k in (1, 10)] or list(ks)[:2]
    if entry.get(f"val_recall@{shown[0]}") is not None:
        text += "  | val " + " ".join(f"R@{k} {entry[f'val_recall@{k}']:.2f}" for k in shown)
    if entry.get(f"val_color_precision@{shown[-1]}") is not None:
        text += "  | val " + " ".join(f"{label} P@{k} {entry[f'{prefix}{k}']:.2f}" for k in shown[-1:]
                                      for label, prefix in (("category", "val_category_precision@"),
                                                            ("category+colour", "val_color_precision@")))
    if entry["collapsed"]:
        text += "  COLLAPSED"
    return text + f"  ({entry['seconds']:.0f} s)"


def train_siamese(
    cat,
    *,
    model=None,
    backbone: str = "inception_v3",
    weights: str | os.PathLike | None = None,
    input_size: int = 299,
    epochs: int = 10,
    triplets_per_epoch: int = 700,
    batch_triplets: int = 14,
    margin: float = 0.3,
    learning_rate: float = 1e-4,
    learning_rate_decay: str | None = None,
    eval_every: int = 1,
    eval_split: str = "val",
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
    embedding model taking [0, 1] images of ``input_size`` (built with
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
    loaded from it, so ``model`` must be None; same ``input_size``,
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
    Returns a :class:`SiameseRun`.
    """
    import keras
    import tensorflow as tf

    from fashionsim.models.embedding import build_embedding_model
    from fashionsim.repeatable import seed_epoch, seed_training

    input_size = _check_positive("input_size", input_size)
    epochs = _check_positive("epochs", epochs)
    triplets_per_epoch = _check_positive("triplets_per_epoch", triplets_per_epoch)
    batch_triplets = _check_positive("batch_triplets", batch_triplets)
    eval_every = _check_positive("eval_every", eval_every)
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
    from fashionsim.deep_ranking import METADATA_KEYS, evaluate_metadata, metadata_sampler, mine_metadata_triplets

    prefixes = ("val_recall@", "val_clean_recall@") if triplets == "mined" else METADATA_KEYS
    allowed = [f"{prefix}{k}" for prefix in prefixes for k in ks]
    if select_by is not None and select_by not in allowed:
        raise ValueError(f"select_by must be one of {allowed} or None, got {select_by!r}")
    if select_by is not None and eval_split is None:
        raise ValueError("select_by needs an eval_split to select on")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder holding the checkpoint)")
    if resume and model is not None:
        raise ValueError("resume=True loads the model from the checkpoint: do not pass model as well")
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_triplets % replicas:
        raise ValueError(
            f"batch_triplets ({batch_triplets}) must be a multiple of the {replicas} replicas of the strategy, "
            "so every replica receives whole (a, p, n) triplets"
        )
    train_cat = cat.split("train")
    eval_cat = cat
    # Refuse a catalog that cannot feed the chosen route before any model is built.
    sampler = None
    if triplets == "metadata":
        sampler = metadata_sampler(train_cat, p_same_product=p_same_product, p_in_class=p_in_class)
    else:
        try:
            mining.sample_pairs(train_cat, 1, seed=0)
        except ValueError as exc:
            raise ValueError(f"{exc}; a catalog of shop photos only can train on metadata triplets "
                             "(triplets=\"metadata\")") from None
    if eval_split is not None:
        part = cat.split(eval_split)  # fails early with a clear error on an unknown or empty split
        n_queries = (int((part.images["source"] == "street").sum()) if triplets == "mined"
                     else int(part.products["category"].notna().sum()))
        if select_by is not None and n_queries < min_selection_queries:
            warnings.warn(f"the {eval_split!r} split has {n_queries} evaluation queries, too few to select an epoch "
                          f"on (< {min_selection_queries}): select_by={select_by!r} is dropped, the last epoch is "
                          "kept", RuntimeWarning, stacklevel=2)
            select_by = None
    out_dir = Path(out_dir) if out_dir is not None else None
    config = {"input_size": input_size, "margin": float(margin), "batch_triplets": batch_triplets,
              "triplets_per_epoch": triplets_per_epoch, "seed": seed, "learning_rate": float(learning_rate),
              "learning_rate_decay": learning_rate_decay, "epochs": epochs if learning_rate_decay else None,
              "eval_split": eval_split, "ks": list(ks), "backbone": backbone if model is None else None,
              "triplets": triplets}

    history: dict[str, list] = {}
    start_epoch = 0
    best_epoch, best_value, best_weights = None, None, None
    seed_training(seed)
    if resume:
        with strategy.scope():
            model, state = load_checkpoint(out_dir, compile=True)
        for key in _RESUME_KEYS:
            if state["config"].get(key, "mined" if key == "triplets" else None) != config[key]:
                raise ValueError(
                    f"cannot resume from {out_dir / CHECKPOINT_DIR}: it was trained with {key}="
                    f"{state['config'].get(key)!r}, this call asks for {config[key]!r}"
                )
        history = {k: list(v) for k, v in state["history"].items()}
        start_epoch = int(state["epoch"])
        if select_by is not None and state.get("best_epoch") is not None:
            if state.get("select_by") != select_by:
                raise ValueError(f"cannot resume: the checkpoint selected by {state.get('select_by')!r}, "
                                 f"this call by {select_by!r}")
            best_epoch, best_value = int(state["best_epoch"]), float(state["best_value"])
            best_weights = _load_weights(model, out_dir / CHECKPOINT_DIR / BEST_FILE)
        if learning_rate_decay is None and float(model.optimizer.learning_rate.numpy()) != float(learning_rate):
            model.optimizer.learning_rate.assign(float(learning_rate))
    else:
        with strategy.scope():
            if model is None:
                model = build_embedding_model(backbone=backbone, image_size=input_size, weights=weights)
            _check_input(model, input_size)
            rate = float(learning_rate)
            if learning_rate_decay == "cosine":  # a schedule of the optimizer's step: resumes with it
                rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=epochs * (triplets_per_epoch
                                                                                          // batch_triplets))
            _compile(model, margin=margin, learning_rate=rate)
    _check_input(model, input_size)

    margins: list[np.ndarray] = []
    collapsed_any = bool(any(history.get("collapsed", [])))
    checkpoint = (out_dir / CHECKPOINT_DIR) if (out_dir is not None and resume) else None
    started = time.perf_counter()

    def mine(epoch: int) -> MinedTriplets:
        if sampler is not None:
            mined = mine_metadata_triplets(model, train_cat, sampler, triplets_per_epoch, input_size=input_size,
                                           seed=_epoch_seeds(seed, epoch)[0], batch_size=embed_batch_size)
        else:
            mined = mine_triplets(model, train_cat, triplets_per_epoch, input_size=input_size,
                                  seed=_epoch_seeds(seed, epoch)[0], batch_size=embed_batch_size, progress=False)
        margins.append(mined.triplets["margin"].to_numpy())
        return mined

    mined = mine(start_epoch) if start_epoch < epochs else None
    for epoch in _progress(range(start_epoch, epochs), enabled=progress, total=epochs - start_epoch, desc="epochs"):
        tick = time.perf_counter()
        seed_epoch(seed, epoch, model)
        n_used = (len(mined.triplets) // batch_triplets) * batch_triplets
        ds = triplet_dataset(train_cat, mined.triplets.iloc[:n_used], input_size=input_size,
                             batch_triplets=batch_triplets, seed=_epoch_seeds(seed, epoch)[1])
        fit = model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, verbose=2 if verbose >= 2 else 0)
        logs = {k: float(v[-1]) for k, v in fit.history.items()}
        mined = mine(epoch + 1)   # the next epoch's triplets, and the state of the embedding after this one
        entry: dict[str, Any] = {
            "epoch": epoch + 1, "loss": logs["loss"], "d_ap": logs["d_ap"], "d_an": logs["d_an"],
            "active_fraction": logs["active_fraction"], "n_triplets": n_used, **mined.summary(margin),
        }
        entry["collapsed"] = _is_collapsed(entry["d_ap"], entry["d_an"], entry["spread"], collapse_eps)
        if sampler is not None:
            entry["fallbacks"] = int(sum(mined.triplets.attrs.get("fallbacks", {}).values()))
        checkpointed = (epoch + 1) % eval_every == 0 or epoch + 1 == epochs
        evaluate = checkpointed and eval_split is not None
        for prefix in prefixes:
            for k in ks:
                entry[f"{prefix}{k}"] = None
        if evaluate and triplets == "metadata":
            result = evaluate_metadata(model, eval_cat, eval_split, input_size=input_size, ks=ks,
                                       batch_size=embed_batch_size)
            for k in ks:
                entry[f"val_category_precision@{k}"] = result["category"][k]
                entry[f"val_color_precision@{k}"] = result["category_color"][k]
        elif evaluate:
            result = evaluate_retrieval(model, eval_cat, eval_split, input_size=input_size, ks=ks,
                                        batch_size=embed_batch_size)
            for k in ks:
                entry[f"val_recall@{k}"] = result["full"]["recall"][k]
                if result["clean"] is not None:
                    entry[f"val_clean_recall@{k}"] = result["clean"]["recall"][k]
        if evaluate and select_by is not None and entry[select_by] is not None and (
                best_value is None or entry[select_by] > best_value):
            best_epoch, best_value, best_weights = epoch + 1, float(entry[select_by]), model.get_weights()
        entry["seconds"] = time.perf_counter() - tick
        for key, value in entry.items():
            history.setdefault(key, []).append(_json_value(value))
        _report(_log_line(entry, epochs, ks), logger=logger, show=verbose >= 1)
        if entry["collapsed"]:
            collapsed_any = True
            warnings.warn(
                _collapse_message(entry, margin, collapse_eps),
                CollapseWarning, stacklevel=2,
            )
        if out_dir is not None and (checkpointed or (stop_on_collapse and entry["collapsed"])):
            state = {"epoch": epoch + 1, "config": config, "history": history, "format": "fashionsim.siamese/1",
                     "select_by": select_by, "best_epoch": best_epoch, "best_value": best_value}
            checkpoint = _write_checkpoint(out_dir, model, state, best_weights)
        if stop_on_collapse and entry["collapsed"]:
            break
    last_epoch = int(history["epoch"][-1]) if history.get("epoch") else None
    if best_weights is not None and best_epoch != last_epoch:
        model.set_weights(best_weights)
        _report(f"kept the weights of epoch {best_epoch} ({select_by} {best_value:.3f})", logger=logger,
                show=verbose >= 1)
    return SiameseRun(model=model, history=history, margins=margins, collapsed=collapsed_any,
                      train_seconds=time.perf_counter() - started, checkpoint=checkpoint, config=config,
                      best_epoch=best_epoch if best_weights is not None else last_epoch)
