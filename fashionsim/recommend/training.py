"""Training BPR models: one epoch loop for DVBPR (three encoders) and BPR-MF, with checkpoints and resume.

Every epoch draws fresh triples (u, i, j) with :class:`BPRSampler` from a
generator seeded by ``(seed, epoch)`` — so a resumed run samples exactly what
an uninterrupted one would — feeds them as batches (item pictures gathered
from an in-memory array, or cached encoder features), runs one Keras epoch,
then measures the validation AUC over *all* items with item vectors computed
once, every ``eval_every`` epochs. The model of the best validation epoch is
kept; without validation interactions, the last (``result.selection``). Each
epoch logs a line (loss, validation AUC, seconds) to this module's logger.
BPR-MF trains in NumPy (:mod:`fashionsim.recommend.mf`), DVBPR in Keras. With ``out_dir`` each
epoch writes a checkpoint folder atomically; the end writes the best model,
its item embeddings and ``meta.json``. Taught in notebook 04; the
``fashionsim train dvbpr`` command calls :func:`train_dvbpr`.

>>> result = train_dvbpr(cat, variant="cnn", image_size=64, epochs=8, out_dir="artifacts/dvbpr")  # doctest: +SKIP
>>> result.history["val_auc"]                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from fashionsim._io import atomic_dir, atomic_path, write_text_atomic
from fashionsim._progress import progress as _progress
from fashionsim.metrics.ranking import auc
from fashionsim.recommend.interactions import BPRSampler, Interactions, interactions_from_catalog
from fashionsim.recommend.scoring import FactorScores, embed_array
from fashionsim.repeatable import seed_epoch, seed_training

VARIANTS = ("cnn", "autoencoder", "pretrained")

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class BPRResult:
    """A trained BPR model and what it was trained on.

    ``model`` takes (user, item i, item j) and returns x_uij (for DVBPR the items
    are images); ``item_vectors`` (n_items, K) and ``item_bias`` (or None) are the
    item side of the scores of the best epoch; ``history`` has per-epoch
    ``loss``, ``pairwise_accuracy`` (in-batch, one sampled negative), ``val_auc``
    (all items; NaN in epochs it was not measured) and ``seconds``. ``selection``
    says which epoch was kept: ``"best_val_auc"``, or ``"last_epoch"`` when
    there were no validation interactions (``best_epoch`` is then the last).
    """

    model: object
    interactions: Interactions
    item_vectors: np.ndarray
    history: dict[str, list[float]]
    best_epoch: int
    train_seconds: float
    variant: str
    image_size: int | None = None
    item_bias: np.ndarray | None = None
    out_dir: Path | None = None
    selection: str = "best_val_auc"

    @property
    def user_vectors(self) -> np.ndarray:
        from fashionsim.recommend.scoring import user_vectors

        return user_vectors(self.model)

    def scores(self) -> FactorScores:
        """The (n_users, n_items) score matrix of the best model, computed rows at a time."""
        return FactorScores(self.user_vectors, self.item_vectors, self.item_bias)


# --------------------------------------------------------------------------- the epoch loop
def _triples(u: np.ndarray, i: np.ndarray, j: np.ndarray, table, batch_size: int):
    """A tf.data pipeline of ((user, item_i, item_j), zeros) batches; items gathered from ``table`` if given."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((u.astype(np.int32), i.astype(np.int32), j.astype(np.int32)))
    ds = ds.batch(batch_size)
    if table is None:
        ds = ds.map(lambda uu, ii, jj: ((uu, ii, jj), tf.zeros(tf.shape(uu), tf.float32)))
    else:
        ds = ds.map(lambda uu, ii, jj: ((uu, tf.gather(table, ii), tf.gather(table, jj)),
                                        tf.zeros(tf.shape(uu), tf.float32)))
    return ds.prefetch(tf.data.AUTOTUNE)


class PictureCache:
    """Every item's picture decoded once, streamed from the files, into a float32 ``.npy`` file read by memory map.

    ``cache[rows]`` gathers pictures (rows sorted: sequential reads); the operating
    system keeps the hot pages, the process holds only the batch it asked for.
    Values are exactly those of ``images.dataset`` (float32 in [0, 1]). The file is
    n_items × s² × 3 × 4 bytes (25,000 items at 48 px: 691 MB) in ``folder``
    (default: a temporary folder, removed by :meth:`close`).
    """

    def __init__(self, paths: Sequence[str], size: int, folder: str | os.PathLike | None = None,
                 batch_size: int = 256) -> None:
        import tempfile

        from fashionsim import images

        self._tmp = tempfile.TemporaryDirectory(prefix="fashionsim-pictures-") if folder is None else None
        where = Path(self._tmp.name if folder is None else folder)
        where.mkdir(parents=True, exist_ok=True)
        self.path = where / f"pictures_{int(size)}px_{len(paths)}.npy"
        started = time.perf_counter()
        out = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32,
                                        shape=(len(paths), int(size), int(size), 3))
        k = 0
        for batch in images.dataset(list(paths), int(size), batch_size):
            batch = np.asarray(batch)
            out[k:k + len(batch)] = batch
            k += len(batch)
        out.flush()
        del out
        if k != len(paths):
            raise RuntimeError(f"decoded {k} item pictures, expected {len(paths)}")
        self.array = np.load(self.path, mmap_mode="r")
        self.seconds = time.perf_counter() - started
        logger.info("decoded %d item pictures at %d px into %s in %.1f s", len(paths), size, self.path, self.seconds)

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, rows) -> np.ndarray:
        return np.asarray(self.array[rows])

    def close(self) -> None:
        self.array = None
        if self._tmp is not None:
            self._tmp.cleanup()


def _distinct_items_step(train_model, tower):
    """A compiled step over a batch of triples that encodes each *distinct* item of the batch once.

    Inputs: user codes (B,), the positions of i and of j among the batch's
    distinct items (B,), and those items' pictures (M, s, s, 3), M ≤ 2B. x_uij =
    θ_u · (f(i) − f(j)) and the loss are the siamese model's. Returns
    ``step(u, i_local, j_local, pictures) -> (loss, accuracy)``.
    """
    import tensorflow as tf

    from fashionsim.recommend.models import USER_EMBEDDING

    user_layer = train_model.get_layer(USER_EMBEDDING)
    users, lambda_u = user_layer.embeddings, user_layer.l2
    variables = train_model.trainable_variables
    optimizer = train_model.optimizer
    spec = tf.TensorSpec([None], tf.int32)
    size = int(tower.input_shape[1])

    @tf.function(input_signature=[spec, spec, spec, tf.TensorSpec([None, size, size, 3], tf.float32)],
                 reduce_retracing=True)
    def step(u, i, j, pictures):
        with tf.GradientTape() as tape:
            vectors = tower(pictures, training=True)
            theta = tf.gather(users, u)
            x = tf.reduce_sum(theta * (tf.gather(vectors, i) - tf.gather(vectors, j)), axis=-1)
            loss = tf.reduce_mean(tf.nn.softplus(-x))
            loss += lambda_u * tf.reduce_mean(tf.reduce_sum(tf.square(theta), axis=-1))
            for penalty in tower.losses:
                loss += penalty
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_mean(tf.cast(x > 0, tf.float32))

    return step


def _run_distinct_epoch(step, pictures: PictureCache, u, i, j, batch_size: int) -> dict[str, list[float]]:
    """Batches of triples; per batch the distinct items' pictures are gathered once and encoded once."""
    losses, accuracies, sizes = [], [], []
    for k in range(0, len(u), batch_size):
        sl = slice(k, k + batch_size)
        items, local = np.unique(np.concatenate([i[sl], j[sl]]), return_inverse=True)
        b = len(u[sl])
        loss, accuracy = step(u[sl].astype(np.int32), local[:b].astype(np.int32), local[b:].astype(np.int32),
                              pictures[items])
        losses.append(float(loss))
        accuracies.append(float(accuracy))
        sizes.append(b)
    return {"loss": [float(np.average(losses, weights=sizes))],
            "pairwise_accuracy": [float(np.average(accuracies, weights=sizes))]}


def _catalog_step(train_model, tower, table):
    """A compiled training step that embeds *every* item once, then scores a batch of triples.

    x_uij = θ_u · (f(i) − f(j)) and the loss are exactly the siamese model's; only
    f is computed once per item per step instead of twice per triple — cheaper
    when the catalog is smaller than two batches of triples (the demo), so
    ``item_pass="auto"`` picks it there. Returns ``step(u, i, j) -> (loss, accuracy)``.
    """
    import tensorflow as tf

    from fashionsim.recommend.models import USER_EMBEDDING

    user_layer = train_model.get_layer(USER_EMBEDDING)
    users, lambda_u = user_layer.embeddings, user_layer.l2
    table = tf.constant(table)
    variables = train_model.trainable_variables
    optimizer = train_model.optimizer
    spec = tf.TensorSpec([None], tf.int32)

    @tf.function(input_signature=[spec, spec, spec], reduce_retracing=True)
    def step(u, i, j):
        with tf.GradientTape() as tape:
            vectors = tower(table, training=True)
            theta = tf.gather(users, u)
            x = tf.reduce_sum(theta * (tf.gather(vectors, i) - tf.gather(vectors, j)), axis=-1)
            loss = tf.reduce_mean(tf.nn.softplus(-x))
            loss += lambda_u * tf.reduce_mean(tf.reduce_sum(tf.square(theta), axis=-1))
            for penalty in tower.losses:
                loss += penalty
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_mean(tf.cast(x > 0, tf.float32))

    return step


def _run_catalog_epoch(step, u, i, j, batch_size: int) -> dict[str, list[float]]:
    losses, accuracies, sizes = [], [], []
    for k in range(0, len(u), batch_size):
        loss, accuracy = step(u[k:k + batch_size].astype(np.int32), i[k:k + batch_size].astype(np.int32),
                              j[k:k + batch_size].astype(np.int32))
        losses.append(float(loss))
        accuracies.append(float(accuracy))
        sizes.append(min(batch_size, len(u) - k))
    return {"loss": [float(np.average(losses, weights=sizes))],
            "pairwise_accuracy": [float(np.average(accuracies, weights=sizes))]}


@dataclasses.dataclass
class _LoopState:
    history: dict[str, list[float]]
    best_epoch: int = -1
    best_auc: float = -np.inf
    best_weights: list | None = None


def _check_eval_every(eval_every: int) -> int:
    if isinstance(eval_every, bool) or not isinstance(eval_every, (int, np.integer)) or eval_every < 1:
        raise ValueError(f"eval_every must be an int >= 1, got {eval_every!r}")
    return int(eval_every)


def _evaluates(epoch: int, epochs: int, eval_every: int, has_val: bool) -> bool:
    """Validation runs every ``eval_every`` epochs and after the last one (never without validation data)."""
    return has_val and ((epoch + 1) % eval_every == 0 or epoch == epochs - 1)


def _end_epoch(state: _LoopState, *, name: str, epoch: int, epochs: int, loss: float, accuracy: float,
               val_auc: float | None, seconds: float, has_val: bool, snapshot: Callable[[], list]) -> bool:
    """Record an epoch in ``state`` (``val_auc`` NaN when not measured), keep the best model, log a line.

    Without validation data every epoch "improves": the model kept is the last one (no selection).
    """
    state.history["loss"].append(float(loss))
    state.history["pairwise_accuracy"].append(float(accuracy))
    state.history["val_auc"].append(float("nan") if val_auc is None else float(val_auc))
    state.history["seconds"].append(float(seconds))
    if has_val:
        improved = val_auc is not None and bool(val_auc > state.best_auc)
        if improved:
            state.best_auc = float(val_auc)
    else:
        improved = True
    if improved:
        state.best_epoch = epoch
        state.best_weights = snapshot()
    shown = "" if val_auc is None else f", val AUC {val_auc:.4f}"
    logger.info("%s epoch %d/%d: loss %.4f%s, %.2f s", name, epoch + 1, epochs, loss, shown, seconds)
    return improved


def _selection(has_val: bool) -> str:
    return "best_val_auc" if has_val else "last_epoch"


def _fit_epochs(
    *,
    train_model,
    image_model,
    sampler: BPRSampler,
    table,
    val_positives: np.ndarray,
    exclude,
    item_vectors: Callable[[], tuple[np.ndarray, np.ndarray | None]],
    user_vectors: Callable[[], np.ndarray],
    state: _LoopState,
    start_epoch: int,
    epochs: int,
    batch_size: int,
    triples_per_epoch: int,
    seed: int,
    progress: bool,
    verbose: int,
    on_epoch_end: Callable[[int, bool], None] | None = None,
    catalog_step=None,
    dataset_fn: Callable | None = None,
    eval_every: int = 1,
    run_epoch: Callable | None = None,
) -> _LoopState:
    import tensorflow as tf

    has_val = bool((val_positives >= 0).any())
    table_t = None if table is None or catalog_step is not None or run_epoch is not None else tf.constant(table)
    if dataset_fn is None:
        def dataset_fn(u, i, j):
            return _triples(u, i, j, table_t, batch_size)
    for epoch in _progress(range(start_epoch, epochs), enabled=progress, total=epochs - start_epoch,
                           desc=f"{image_model.name} epochs"):
        start = time.perf_counter()
        seed_epoch(seed, epoch, train_model)
        u, i, j = sampler.sample(triples_per_epoch, seed=np.random.default_rng([seed, epoch]))
        if run_epoch is not None:
            logs = run_epoch(u, i, j)
        elif catalog_step is not None:
            logs = _run_catalog_epoch(catalog_step, u, i, j, batch_size)
        else:
            logs = train_model.fit(dataset_fn(u, i, j), epochs=epoch + 1, initial_epoch=epoch,
                                   shuffle=False, verbose=verbose).history  # triples are drawn in random order
        val_auc = None
        if _evaluates(epoch, epochs, eval_every, has_val):
            vectors, bias = item_vectors()
            val_auc = float(auc(FactorScores(user_vectors(), vectors, bias), val_positives, exclude))
        improved = _end_epoch(state, name=image_model.name, epoch=epoch, epochs=epochs, loss=logs["loss"][-1],
                              accuracy=logs["pairwise_accuracy"][-1], val_auc=val_auc,
                              seconds=time.perf_counter() - start, has_val=has_val,
                              snapshot=image_model.get_weights)
        if on_epoch_end is not None:
            on_epoch_end(epoch, improved)
    return state


def _val_positives(inter: Interactions) -> np.ndarray:
    """One validation item per user (the first by code), −1 for users without one."""
    val = inter.val
    first = np.full(inter.n_users, -1, dtype=np.int64)
    has = np.diff(val.indptr) > 0
    first[has] = val.indices[val.indptr[:-1][has]]
    return first


def _empty_history() -> dict[str, list[float]]:
    return {"loss": [], "pairwise_accuracy": [], "val_auc": [], "seconds": []}


# --------------------------------------------------------------------------- BPR-MF
def train_bpr_mf(
    inter: Interactions,
    *,
    latent_dim: int = 50,
    epochs: int = 30,
    batch_size: int = 2048,
    learning_rate: float = 3e-2,
    lambda_u: float = 1e-3,
    lambda_i: float = 1e-3,
    item_bias: bool = True,
    triples_per_epoch: int | None = None,
    seed: int = 0,
    progress: bool = True,
    verbose: int = 0,
    eval_every: int = 1,
    users: str = "uniform",
    optimizer: str = "adam",
) -> BPRResult:
    """Plain BPR matrix factorisation (no images), trained in NumPy with the same sampler as DVBPR.

    Each epoch draws ``triples_per_epoch`` fresh triples (default: as many as
    training interactions, at least 8 batches) from ``np.random.default_rng([seed, epoch])``
    (``users``: :class:`BPRSampler`'s user weighting) and takes mini-batch Adam steps
    on BPR-Opt (:mod:`fashionsim.recommend.mf`: the Keras model's loss, gradients
    by hand, ~50× faster than a Keras epoch). ``optimizer="adam"`` (default: one
    step equals a Keras Adam step) or ``"sgd"`` (plain gradient descent on the
    batch-mean loss, the learning rate then in the thousands of Cornac's per-triple
    rate times the batch size; about twice as fast per epoch). The validation AUC (all items) is
    measured every ``eval_every`` epochs and after the last; the model of the best
    measured epoch is returned. Without validation interactions (``inter.val``
    empty) it trains the ``epochs`` and returns the last model: ``result.selection``
    is then ``"last_epoch"`` and ``history["val_auc"]`` all NaN (it says so in the log).
    ``result.model`` is the Keras :func:`~fashionsim.recommend.models.build_bpr_mf`
    holding the returned weights. Defaults tuned on the demo catalog.

    >>> mf = train_bpr_mf(inter, epochs=30, seed=0, progress=False)   # doctest: +SKIP
    >>> mf.scores()                                                    # FactorScores (n_users, n_items)  # doctest: +SKIP
    """
    from fashionsim.recommend import mf as MF

    eval_every = _check_eval_every(eval_every)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    seed_training(seed)
    params = MF.init_params(inter.n_users, inter.n_items, int(latent_dim), np.random.default_rng([int(seed), 0, 1]),
                            item_bias=item_bias)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    optimizer = MF.Adam(learning_rate) if optimizer == "adam" else MF.SGD(learning_rate)
    sampler = BPRSampler(inter.train, users=users)
    n_triples = _epoch_size(triples_per_epoch, inter.train.nnz, batch_size)
    val_positives = _val_positives(inter)
    has_val = bool((val_positives >= 0).any())
    if not has_val:
        logger.info("BPR-MF: no validation interactions: training %d epochs, keeping the last (no best-epoch "
                    "selection)", epochs)
    state = _LoopState(_empty_history())
    start = time.perf_counter()
    for epoch in _progress(range(epochs), enabled=progress, total=epochs, desc="BPR-MF epochs"):
        began = time.perf_counter()
        seed_epoch(seed, epoch)
        u, i, j = sampler.sample(n_triples, seed=np.random.default_rng([seed, epoch]))
        loss, accuracy = MF.run_epoch(params, optimizer, u, i, j, batch_size=batch_size, lambda_u=lambda_u,
                                      lambda_i=lambda_i)
        val_auc = None
        if _evaluates(epoch, epochs, eval_every, has_val):
            val_auc = float(auc(FactorScores(params.user, params.item, params.bias), val_positives, inter.train))
        _end_epoch(state, name="bpr_mf", epoch=epoch, epochs=epochs, loss=loss, accuracy=accuracy, val_auc=val_auc,
                   seconds=time.perf_counter() - began, has_val=has_val,
                   snapshot=lambda: [a.copy() for a in params.arrays()])
    seconds = time.perf_counter() - start
    best = MF.MFParams(*state.best_weights) if item_bias else MF.MFParams(*state.best_weights, None)
    model = _keras_bpr_mf(best, lambda_u=lambda_u, lambda_i=lambda_i)
    return BPRResult(model, inter, best.item.copy(), state.history, state.best_epoch, seconds, "bpr_mf", None,
                     None if best.bias is None else best.bias.copy(), selection=_selection(has_val))


def _keras_bpr_mf(params, *, lambda_u: float, lambda_i: float):
    """The Keras BPR-MF model holding ``params`` (for scoring, saving, and the callers of ``result.model``)."""
    from fashionsim.recommend.models import USER_EMBEDDING, build_bpr_mf

    n_users, k = params.user.shape
    model = build_bpr_mf(n_users, len(params.item), latent_dim=k, lambda_u=lambda_u, lambda_i=lambda_i,
                         item_bias=params.bias is not None)
    model.get_layer(USER_EMBEDDING).embeddings.assign(params.user)
    model.get_layer("item_embedding").embeddings.assign(params.item)
    if params.bias is not None:
        model.get_layer("item_bias").embeddings.assign(params.bias[:, None])
    return model


# --------------------------------------------------------------------------- DVBPR
def _config(**kwargs) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}


CATALOG_PASS_MAX_ITEMS = 2048


def _epoch_size(triples_per_epoch: int | None, n_train: int, batch_size: int) -> int:
    """Default epoch: the number of training interactions, and at least 8 batches."""
    if triples_per_epoch is not None:
        if triples_per_epoch < 1:
            raise ValueError(f"triples_per_epoch must be >= 1, got {triples_per_epoch}")
        return int(triples_per_epoch)
    return max(int(n_train), 8 * int(batch_size))


def train_dvbpr(
    cat,
    *,
    variant: str = "cnn",
    image_size: int = 48,
    epochs: int = 30,
    batch_size: int | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    seed: int = 0,
    progress: bool = True,
    latent_dim: int = 50,
    learning_rate: float = 1e-2,
    lambda_u: float = 1e-3,
    lambda_cnn: float = 1e-5,
    lambda_fc: float = 1e-5,
    widths: Sequence[int] = (8, 16, 32),
    first_stride: int = 2,
    batch_norm: bool = True,
    dense_units: int = 0,
    dropout: float = 0.0,
    user_init: float = 0.1,
    item_pass: str = "auto",
    ae_widths: Sequence[int] = (16, 32, 64),
    ae_epochs: int = 20,
    ae_learning_rate: float = 1e-3,
    code_dim: int = 128,
    backbone: str = "inception_v3",
    weights: str | os.PathLike | None = None,
    triples_per_epoch: int | None = None,
    interactions: Interactions | None = None,
    item_images: np.ndarray | None = None,
    verbose: int = 0,
    eval_every: int = 1,
    cache_dir: str | os.PathLike | None = None,
) -> BPRResult:
    """Train DVBPR on a catalog's interactions and item pictures; return the best-validation model (or the last).

    variant: ``"cnn"`` — a small CNN (``widths``, ``first_stride``, ``batch_norm``,
        ``dense_units``, ``dropout``) trained end to end; ``"autoencoder"`` — a
        convolutional autoencoder (``ae_widths``, ``code_dim``, ``ae_epochs``,
        ``ae_learning_rate``) is first trained on the item pictures (MSE), then its
        frozen encoder plus a trainable dense layer is f; ``"pretrained"`` — a frozen
        ``build_backbone(backbone, weights=weights)`` plus a trainable dense layer
        (``weights=None``: *random* convolution features — all one can have offline;
        ``"imagenet"`` with a network; or a weights file). With a frozen encoder the
        features of every item are computed once and only the dense layer and θ train.
    image_size: side of the item pictures (≥ 75 for InceptionV3; a multiple of
        2**len(ae_widths) for the autoencoder).
    epochs, triples_per_epoch: each epoch draws fresh triples (default: as many as
        training interactions, at least 8 batches); the model of the epoch with the
        best validation AUC (all items) is returned.
    batch_size: triples per step (default 2048 with ``item_pass="catalog"``, else
        128 as the reference).
    item_pass: how a batch of triples meets the item encoder. ``"catalog"``: the
        item pictures are decoded once into memory, f is applied once to every item
        per step and the batch's vectors gathered — the same x_uij and loss as the
        siamese model, far cheaper for a small catalog. ``"pairs"``: per
        step f is applied once to each *distinct* item of the batch of triples (the
        same x_uij and loss as the siamese model); the pictures are decoded once at
        the start, streamed from the files by ``images.dataset`` into a float32 file
        read by memory map (:class:`PictureCache`, in ``cache_dir`` or a temporary
        folder): never the whole catalog in the process's memory, no picture
        decoded per triple; the item-embedding passes read the same file (the
        autoencoder trains on pictures streamed from the files). ``"auto"``:
        catalog up to 2,048 items.
    eval_every: the validation AUC (an item-embedding pass) is measured every
        ``eval_every`` epochs and after the last; ``history["val_auc"]`` is NaN for
        the others. Without validation interactions the epochs are trained and the
        last model returned (``result.selection == "last_epoch"``, logged). Each epoch
        logs a line (loss, validation AUC when measured, seconds) to the
        ``fashionsim.recommend.training`` logger.
    out_dir: checkpoint every epoch into ``out_dir/checkpoint/`` (atomically) and
        write ``model.keras``, ``item_embeddings.npy`` (+ ``.json``) and ``meta.json``
        at the end; ``resume=True`` continues from the checkpoint there (same
        settings required; Adam's state included) and starts afresh when there is none.
    interactions / item_images: pass them to skip re-deriving them from ``cat``
        (``item_images``: (n_items, image_size, image_size, 3) in [0, 1], in
        ``interactions.item_ids`` order: each product's first shop picture).

    λ: ``lambda_u`` on θ_u of the batch's users (per triple), ``lambda_cnn`` /
    ``lambda_fc`` on convolution / dense kernels (once per batch). The loss is the
    batch mean, so λ does not depend on the batch size. The defaults are tuned for
    the demo catalog (a few hundred items, CPU minutes).
    """
    import keras

    from fashionsim.recommend import models as M
    from fashionsim.recommend.items import item_image_paths, load_item_images
    from fashionsim.recommend.scoring import user_vectors

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}")
    eval_every = _check_eval_every(eval_every)
    if item_pass not in ("auto", "catalog", "pairs"):
        raise ValueError(f"item_pass must be 'auto', 'catalog' or 'pairs', got {item_pass!r}")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where the checkpoint is)")
    inter = interactions if interactions is not None else interactions_from_catalog(cat)
    if item_pass == "auto":
        item_pass = "catalog" if inter.n_items <= CATALOG_PASS_MAX_ITEMS else "pairs"
    if batch_size is None:
        batch_size = 2048 if item_pass == "catalog" else 128
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    triples_per_epoch = _epoch_size(triples_per_epoch, inter.train.nnz, batch_size)
    config = _config(variant=variant, image_size=int(image_size), latent_dim=latent_dim, learning_rate=learning_rate,
                     lambda_u=lambda_u, lambda_cnn=lambda_cnn, lambda_fc=lambda_fc, widths=tuple(widths),
                     first_stride=first_stride, batch_norm=batch_norm, dense_units=dense_units, dropout=dropout,
                     user_init=user_init, item_pass=item_pass, ae_widths=tuple(ae_widths), ae_epochs=ae_epochs,
                     ae_learning_rate=ae_learning_rate, code_dim=code_dim, backbone=backbone,
                     weights=None if weights is None else str(weights), batch_size=batch_size, seed=seed,
                     triples_per_epoch=triples_per_epoch, n_users=inter.n_users, n_items=inter.n_items)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / "checkpoint" if out is not None else None
    saved = _read_checkpoint(ckpt, config) if resume else None

    # Small catalogs (item_pass="catalog") decode every item picture once into memory; large ones
    # (item_pass="pairs") stream pictures from the files through images.dataset, never all in memory.
    stream = item_images is None and item_pass == "pairs"
    paths = item_image_paths(cat, inter.item_ids) if stream else None
    cache = PictureCache(paths, int(image_size), cache_dir) if stream else None
    if item_images is None and not stream:
        item_images = load_item_images(cat, inter.item_ids, image_size)
    expected = (inter.n_items, int(image_size), int(image_size), 3)
    if item_images is not None and item_images.shape != expected:
        raise ValueError(f"item_images must have shape {expected}, got {item_images.shape}")

    def encode(model, batch_size: int = 256) -> np.ndarray:
        """``model`` over every item picture: from the in-memory array, or streamed from the files."""
        if stream:
            return _embed_cache(model, cache, batch_size)
        return embed_array(model, item_images, batch_size)

    seed_training(seed)
    started = time.perf_counter()
    history = _empty_history()
    extra: dict = {}

    if saved is not None:
        train_model = keras.saving.load_model(ckpt / "train.keras")
        history = saved["history"]
        extra = saved.get("extra", {})
    if variant == "cnn":
        if saved is None:
            tower = M.build_cnn_encoder(image_size, latent_dim, widths=widths, first_stride=first_stride,
                                        batch_norm=batch_norm, dense_units=dense_units, dropout=dropout,
                                        lambda_cnn=lambda_cnn, lambda_fc=lambda_fc)
            train_model = M.compile_bpr(M.build_dvbpr(tower, inter.n_users, lambda_u=lambda_u, user_init=user_init),
                                        learning_rate)
        image_model, table = train_model, item_images
        tower = train_model.get_layer(M.ITEM_TOWER)
        train_tower = tower

        def vectors():
            return encode(tower), None
    else:
        if saved is not None:
            encoder = keras.saving.load_model(ckpt / "encoder.keras")
        elif variant == "autoencoder":
            autoencoder, encoder = M.build_conv_autoencoder(image_size, widths=ae_widths, code_dim=code_dim)
            autoencoder.compile(optimizer=keras.optimizers.Adam(ae_learning_rate), loss="mse")
            if stream:
                from fashionsim import images

                pictures = images.dataset(paths, int(image_size), 32, shuffle=True, seed=seed).map(lambda x: (x, x))
                ae_logs = autoencoder.fit(pictures, epochs=ae_epochs, shuffle=False, verbose=verbose).history
            else:
                ae_logs = autoencoder.fit(item_images, item_images, batch_size=32, epochs=ae_epochs, shuffle=True,
                                          verbose=verbose).history
            extra["autoencoder_loss"] = [float(v) for v in ae_logs["loss"]]
        else:
            from fashionsim.models.backbones import build_backbone

            encoder = build_backbone(backbone, image_size=image_size, weights=weights, trainable=False)
        encoder.trainable = False
        features = encode(encoder, batch_size=64)
        if saved is None:
            head = M.build_dense_head(features.shape[1], latent_dim, lambda_fc=lambda_fc, mean=features.mean(0),
                                      variance=np.maximum(features.var(0), 1e-6))
            train_model = M.compile_bpr(M.build_dvbpr(head, inter.n_users, lambda_u=lambda_u, user_init=user_init),
                                        learning_rate)
        head = train_model.get_layer("head")
        image_model = M.build_dvbpr(M.build_item_tower(encoder, head), user_embedding=train_model.get_layer(
            M.USER_EMBEDDING))
        table, train_tower = features, head

        def vectors():
            return embed_array(head, features, batch_size=1024), None

    state = _LoopState(history)
    if saved is not None:
        state.best_epoch, state.best_auc = saved["best_epoch"], saved["best_val_auc"]
        state.best_weights = keras.saving.load_model(ckpt / "best.keras").get_weights()
    start_epoch = len(history["val_auc"])

    def checkpoint(epoch: int, improved: bool) -> None:
        if ckpt is None:
            return
        with atomic_dir(ckpt) as tmp:
            with atomic_path(tmp / "train.keras") as path:
                train_model.save(path)
            if improved or not (ckpt / "best.keras").exists():
                with atomic_path(tmp / "best.keras") as path:
                    image_model.save(path)
            else:
                shutil.copy2(ckpt / "best.keras", tmp / "best.keras")
            if variant != "cnn":
                if (ckpt / "encoder.keras").exists():
                    shutil.copy2(ckpt / "encoder.keras", tmp / "encoder.keras")
                else:
                    encoder.save(tmp / "encoder.keras")
            write_text_atomic(tmp / "state.json", json.dumps({
                "config": config, "history": state.history, "best_epoch": state.best_epoch,
                "best_val_auc": state.best_auc, "extra": extra}, indent=1))

    step = _catalog_step(train_model, train_tower, table) if item_pass == "catalog" else None
    run_epoch = None
    if stream and variant == "cnn":
        distinct_step = _distinct_items_step(train_model, train_tower)

        def run_epoch(u, i, j):
            return _run_distinct_epoch(distinct_step, cache, u, i, j, batch_size)
    sampler = BPRSampler(inter.train)
    has_val = bool((_val_positives(inter) >= 0).any())
    if not has_val:
        logger.info("DVBPR %s: no validation interactions: training %d epochs, keeping the last (no best-epoch "
                    "selection)", variant, epochs)
    _fit_epochs(
        train_model=train_model, image_model=image_model, sampler=sampler, table=table,
        val_positives=_val_positives(inter), exclude=inter.train, item_vectors=vectors,
        user_vectors=lambda: user_vectors(train_model), state=state, start_epoch=start_epoch, epochs=epochs,
        batch_size=batch_size, triples_per_epoch=triples_per_epoch, seed=seed,
        progress=progress, verbose=verbose, on_epoch_end=checkpoint, catalog_step=step, run_epoch=run_epoch,
        eval_every=eval_every)
    image_model.set_weights(state.best_weights)
    item_vecs = encode(image_model.get_layer(M.ITEM_TOWER))
    if cache is not None:
        cache.close()
    result = BPRResult(image_model, inter, item_vecs, state.history, state.best_epoch,
                       time.perf_counter() - started, variant, int(image_size), None, out,
                       selection=_selection(has_val))
    result.history.update({k: v for k, v in extra.items() if k == "autoencoder_loss"})
    if out is not None:
        save_dvbpr(result, out, cat=cat, config=config)
    return result


def _embed_cache(model, cache: PictureCache, batch_size: int = 256) -> np.ndarray:
    """``model`` over every cached item picture, ``batch_size`` pictures read at a time."""
    return np.concatenate([embed_array(model, cache[k:k + batch_size], batch_size)
                           for k in range(0, len(cache), batch_size)])


def _read_checkpoint(ckpt: Path, config: dict) -> dict | None:
    """The checkpoint's state, or None when there is none; ValueError when it was made with other settings."""
    state_path = ckpt / "state.json"
    if not state_path.is_file():
        return None
    state = json.loads(state_path.read_text())
    differ = {k: (state["config"].get(k), v) for k, v in config.items() if state["config"].get(k) != v}
    if differ:
        raise ValueError(f"cannot resume from {ckpt}: it was trained with other settings "
                         f"(setting: (checkpoint, now)) {differ}")
    for name in ("train.keras", "best.keras"):
        if not (ckpt / name).is_file():
            raise FileNotFoundError(f"checkpoint incomplete: {ckpt / name} is missing")
    return state


# --------------------------------------------------------------------------- saving / loading
def save_dvbpr(result: BPRResult, out_dir: str | os.PathLike, *, cat=None, config: dict | None = None,
               recompute: bool = False) -> Path:
    """Write ``model.keras``, ``item_embeddings.npy`` (+ ``.json``, with the item tower's fingerprint), ``meta.json``.

    The item embeddings written are ``result.item_vectors`` — the ones training
    already computed with the returned model — so no picture is decoded again.
    With ``recompute=True`` (and ``cat``) they are recomputed from the item
    pictures streamed through ``images.dataset`` (``embed_images``) instead.
    ``cat`` also records each item's image id in ``meta.json``.
    """
    from fashionsim.embed import model_fingerprint, save_embeddings
    from fashionsim.recommend.items import item_image_ids, item_image_paths
    from fashionsim.recommend.scoring import item_vectors

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inter = result.interactions
    with atomic_path(out / "model.keras") as path:
        result.model.save(path)
    tower = result.model.get_layer("item_tower")
    vectors = result.item_vectors
    if recompute:
        if cat is None:
            raise ValueError("recompute=True needs cat (where the item pictures are)")
        vectors = item_vectors(result.model, item_image_paths(cat, inter.item_ids), progress=False)
    fingerprint = model_fingerprint(tower)
    save_embeddings(out / "item_embeddings.npy", vectors, list(inter.item_ids), fingerprint=fingerprint)
    meta = {
        "variant": result.variant, "image_size": result.image_size, "best_epoch": result.best_epoch,
        "history": result.history, "train_seconds": result.train_seconds, "fingerprint": fingerprint,
        "user_ids": [_plain(u) for u in inter.user_ids], "item_ids": [_plain(i) for i in inter.item_ids],
        "item_image_ids": ([_plain(i) for i in item_image_ids(cat, inter.item_ids)] if cat is not None else None),
        "config": config,
    }
    write_text_atomic(out / "meta.json", json.dumps(meta, indent=1))
    return out


def _plain(value):
    return value.item() if hasattr(value, "item") else value


@dataclasses.dataclass
class LoadedDVBPR:
    """What :func:`load_dvbpr` returns: the model, the id maps, the item vectors and the training record."""

    model: object
    user_ids: np.ndarray
    item_ids: np.ndarray
    item_vectors: np.ndarray
    image_size: int
    meta: dict

    def scores(self) -> FactorScores:
        from fashionsim.recommend.scoring import user_vectors

        return FactorScores(user_vectors(self.model), self.item_vectors)

    def check_ids(self, inter: Interactions) -> LoadedDVBPR:
        """ValueError unless ``inter`` codes users and items exactly as the saved model does; returns self."""
        if list(self.user_ids) != [_plain(u) for u in inter.user_ids] or \
                list(self.item_ids) != [_plain(i) for i in inter.item_ids]:
            raise ValueError("the saved model was trained on other users or items than these interactions "
                             f"({len(self.user_ids)} users × {len(self.item_ids)} items saved, "
                             f"{inter.n_users} × {inter.n_items} given): retrain it on this catalog")
        return self


def load_dvbpr(out_dir: str | os.PathLike) -> LoadedDVBPR:
    """Load what :func:`train_dvbpr` wrote to ``out_dir``; refuses item embeddings made by another model."""
    from fashionsim.embed import load_embeddings, model_fingerprint

    out = Path(out_dir)
    for name in ("model.keras", "meta.json", "item_embeddings.npy"):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} not found: train with train_dvbpr(..., out_dir={str(out)!r})")
    from fashionsim.models.io import load_model

    try:
        meta = json.loads((out / "meta.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{out / 'meta.json'} is not valid JSON (truncated?): {exc}; re-run training") from None
    model = load_model(out / "model.keras")
    fingerprint = model_fingerprint(model.get_layer("item_tower"))
    if fingerprint != meta["fingerprint"]:
        raise ValueError(f"{out}: model.keras does not match meta.json (an interrupted write?): re-run training")
    vectors, ids, _ = load_embeddings(out / "item_embeddings.npy", fingerprint=fingerprint)
    return LoadedDVBPR(model, np.asarray(meta["user_ids"]), np.asarray(ids), vectors, int(meta["image_size"]), meta)
