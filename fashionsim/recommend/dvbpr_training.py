"""``train_dvbpr``: DVBPR (three image encoders) on a catalog's interactions and pictures, on the training harness."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fashionsim import harness
from fashionsim.recommend.bpr_epochs import (
    CATALOG_PASS_MAX_ITEMS,
    VARIANTS,
    BPREpochs,
    BPRResult,
    epoch_size,
    plain_history,
    selection,
)
from fashionsim.recommend.dvbpr_models import BEST_FILE, ENCODER_FILE, TRAIN_FILE, DVBPRParts, build_parts
from fashionsim.recommend.interactions import Interactions, interactions_from_catalog
from fashionsim.recommend.pictures import PictureCache, embed_cache
from fashionsim.recommend.scoring import FactorScores, embed_array

__all__ = ["train_dvbpr"]


class _DVBPREpochs(BPREpochs):
    """BPR epochs whose checkpoint holds the training model, the best image model and the frozen encoder."""

    def __init__(self, parts: DVBPRParts, **kwargs) -> None:
        super().__init__(**kwargs)
        self.parts = parts

    def snapshot(self) -> list:
        return self.parts.image_model.get_weights()

    def restore(self, weights: list) -> None:
        self.parts.image_model.set_weights(weights)

    def write_checkpoint(self, folder: Path, previous: Path | None, best, improved: bool) -> list[str]:
        parts = self.parts
        parts.train_model.save(folder / TRAIN_FILE)
        if best.select_by is None or improved or previous is None or not (previous / BEST_FILE).is_file():
            parts.image_model.save(folder / BEST_FILE)   # the current model is the best (or the only) one
        else:
            shutil.copy2(previous / BEST_FILE, folder / BEST_FILE)
        if parts.encoder is None:
            return [TRAIN_FILE, BEST_FILE]
        if previous is not None and (previous / ENCODER_FILE).is_file():
            shutil.copy2(previous / ENCODER_FILE, folder / ENCODER_FILE)
        else:
            parts.encoder.save(folder / ENCODER_FILE)
        return [TRAIN_FILE, BEST_FILE, ENCODER_FILE]


def _epoch_step(parts: DVBPRParts, *, item_pass: str, strategy, cache: PictureCache | None, batch_size: int,
                image_size: int, verbose: int):
    """``step(u, i, j, epoch)``: one epoch on drawn triples, in the way ``item_pass`` and the strategy call for."""
    import tensorflow as tf

    from fashionsim.recommend import steps

    model, tower, table = parts.train_model, parts.train_tower, parts.table
    if harness.is_default_strategy(strategy):
        if item_pass == "catalog":
            step = steps.catalog_step(model, tower, table)
            return lambda u, i, j, epoch: steps.run_catalog_epoch(step, u, i, j, batch_size)
        if cache is not None and parts.encoder is None:
            step = steps.distinct_items_step(model, tower)
            return lambda u, i, j, epoch: steps.run_distinct_epoch(step, cache, u, i, j, batch_size)
    elif item_pass == "catalog":
        step = steps.distributed_catalog_step(strategy, model, tower, table)
        return lambda u, i, j, epoch: steps.run_distributed_epoch(step, strategy, u, i, j, batch_size)
    table_t = tf.constant(table) if table is not None else None
    gather = cache.__getitem__ if table is None else None

    def fit(u, i, j, epoch):
        ds = steps.triples_dataset(u, i, j, table_t, batch_size, gather=gather,
                                   picture_shape=(image_size, image_size, 3))
        logs = harness.fit_epoch(model, ds, epoch, strategy=strategy, verbose=verbose)
        return {"loss": logs["loss"], "pairwise_accuracy": logs["pairwise_accuracy"]}

    return fit


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
    strategy=None,
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
        128 as the reference); under a strategy, the global batch, split across the replicas.
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
        ``fashionsim.recommend.training`` logger (printed too with ``verbose >= 1``).
    out_dir: checkpoint every epoch into ``out_dir/checkpoint/`` (atomically) and
        write ``model.keras``, ``item_embeddings.npy`` (+ ``.json``) and ``meta.json``
        at the end; ``resume=True`` continues from the checkpoint there (same
        settings required; Adam's state included) and starts afresh when there is none.
    interactions / item_images: pass them to skip re-deriving them from ``cat``
        (``item_images``: (n_items, image_size, image_size, 3) in [0, 1], in
        ``interactions.item_ids`` order: each product's first shop picture).
    strategy: an optional ``tf.distribute.Strategy``: the models are built (or loaded) in its
        scope and each global batch is split across its replicas (``batch_size`` must be a
        multiple of their number); ``item_pass="catalog"`` steps then run on every replica, each
        embedding the whole item table (2 replicas match 1 up to float rounding),
        ``"pairs"`` through Keras' ``fit`` (BatchNormalization then normalises each replica's
        share, so the runs differ by more). Without one, the single-device steps run unchanged.
        Reuse one ``MirroredStrategy`` for successive runs in a process: a new one after a
        Keras ``fit`` under another can abort with "Shape mismatch in the collective instance"
        (tensorflow/tensorflow#62790).

    λ: ``lambda_u`` on θ_u of the batch's users (per triple), ``lambda_cnn`` /
    ``lambda_fc`` on convolution / dense kernels (once per batch). The loss is the
    batch mean, so λ does not depend on the batch size. The defaults are tuned for
    the demo catalog (a few hundred items, CPU minutes). The epochs run on :mod:`fashionsim.harness`;
    ``result.best_epoch`` counts from 0.
    """
    from fashionsim.recommend import models as M
    from fashionsim.recommend.items import item_image_paths, load_item_images
    from fashionsim.recommend.persist import save_dvbpr
    from fashionsim.recommend.scoring import user_vectors

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}")
    eval_every = harness.check_positive("eval_every", eval_every)
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
    if strategy is not None:
        harness.check_replicas(batch_size, strategy, "batch_size", "triples")
    triples_per_epoch = epoch_size(triples_per_epoch, inter.train.nnz, batch_size)
    config = harness.to_json(dict(
        variant=variant, image_size=int(image_size), latent_dim=latent_dim, learning_rate=learning_rate,
        lambda_u=lambda_u, lambda_cnn=lambda_cnn, lambda_fc=lambda_fc, widths=tuple(widths),
        first_stride=first_stride, batch_norm=batch_norm, dense_units=dense_units, dropout=dropout,
        user_init=user_init, item_pass=item_pass, ae_widths=tuple(ae_widths), ae_epochs=ae_epochs,
        ae_learning_rate=ae_learning_rate, code_dim=code_dim, backbone=backbone,
        weights=None if weights is None else str(weights), batch_size=batch_size, seed=seed,
        triples_per_epoch=triples_per_epoch, n_users=inter.n_users, n_items=inter.n_items))
    out = Path(out_dir) if out_dir is not None else None
    checkpoints = harness.Checkpoints(out, "dvbpr") if out is not None else None
    state = checkpoints.read(config) if resume else None

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
        return embed_cache(model, cache, batch_size) if stream else embed_array(model, item_images, batch_size)

    harness.begin(seed)
    started = time.perf_counter()
    settings = dict(config, widths=tuple(widths), ae_widths=tuple(ae_widths), weights=weights)
    with harness.strategy_scope(strategy):
        parts = build_parts(variant, saved=checkpoints.path if state is not None else None, n_users=inter.n_users,
                            image_size=int(image_size), encode=encode, settings=settings, item_images=item_images,
                            paths=paths, seed=seed, verbose=verbose)
    if state is None:
        state = harness.TrainingState("dvbpr", config)
        if parts.autoencoder_loss is not None:
            state.extra["autoencoder_loss"] = parts.autoencoder_loss
    step = _epoch_step(parts, item_pass=item_pass, strategy=strategy, cache=cache, batch_size=batch_size,
                       image_size=int(image_size), verbose=verbose)
    task = _DVBPREpochs(parts, name=parts.image_model.name, inter=inter, n_triples=triples_per_epoch, seed=seed,
                        step=step, seed_model=parts.train_model,
                        scores=lambda: FactorScores(user_vectors(parts.train_model), parts.vectors(), None))
    if not task.evaluates:
        task.logger.info("DVBPR %s: no validation interactions: training %d epochs, keeping the last (no "
                         "best-epoch selection)", variant, epochs)
    best = harness.BestEpoch("val_auc" if task.evaluates else None)
    if checkpoints is not None and state.epoch:
        import keras

        best.resume(state, lambda: keras.saving.load_model(checkpoints.path / BEST_FILE).get_weights())
    harness.run_epochs(task, state, epochs=epochs, seed=seed, best=best, checkpoints=checkpoints,
                       eval_every=eval_every, progress=progress, show=verbose >= 1,
                       desc=f"{parts.image_model.name} epochs")
    kept = harness.finish(task, state, best, show=verbose >= 1)
    item_vecs = encode(parts.image_model.get_layer(M.ITEM_TOWER))
    if cache is not None:
        cache.close()
    history = plain_history(state.history)
    if "autoencoder_loss" in state.extra:
        history["autoencoder_loss"] = list(state.extra["autoencoder_loss"])
    result = BPRResult(parts.image_model, inter, item_vecs, history, kept - 1, time.perf_counter() - started,
                       variant, int(image_size), None, out, selection=selection(task.evaluates))
    if out is not None:
        save_dvbpr(result, out, cat=cat, config=config)
    return result
