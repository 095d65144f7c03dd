"""``train_bpr_mf``: plain BPR matrix factorisation in NumPy, on the training harness."""

from __future__ import annotations

import time

import numpy as np

from fashionsim import harness
from fashionsim.recommend.bpr_epochs import BPREpochs, BPRResult, epoch_size, plain_history, selection
from fashionsim.recommend.interactions import Interactions
from fashionsim.recommend.scoring import FactorScores

__all__ = ["train_bpr_mf"]


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
    rate times the batch size; about 3.7× faster per epoch at MovieLens-100k size). The validation AUC (all items) is
    measured every ``eval_every`` epochs and after the last; the model of the best
    measured epoch is returned. Without validation interactions (``inter.val``
    empty) it trains the ``epochs`` and returns the last model: ``result.selection``
    is then ``"last_epoch"`` and ``history["val_auc"]`` all NaN (it says so in the log).
    ``result.model`` is the Keras :func:`~fashionsim.recommend.models.build_bpr_mf`
    holding the returned weights. ``verbose >= 1`` prints the epoch lines. Defaults tuned on
    the demo catalog. The epochs run on :mod:`fashionsim.harness`.
    """
    from fashionsim.recommend import mf as MF

    eval_every = harness.check_positive("eval_every", eval_every)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    harness.begin(seed)
    params = MF.init_params(inter.n_users, inter.n_items, int(latent_dim), np.random.default_rng([int(seed), 0, 1]),
                            item_bias=item_bias)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    optimizer = MF.Adam(learning_rate) if optimizer == "adam" else MF.SGD(learning_rate)

    def step(u, i, j, epoch):
        loss, accuracy = MF.run_epoch(params, optimizer, u, i, j, batch_size=batch_size, lambda_u=lambda_u,
                                      lambda_i=lambda_i)
        return {"loss": loss, "pairwise_accuracy": accuracy}

    task = BPREpochs("bpr_mf", inter, n_triples=epoch_size(triples_per_epoch, inter.train.nnz, batch_size),
                     seed=seed, step=step, scores=lambda: FactorScores(params.user, params.item, params.bias),
                     users=users)
    task.snapshot = lambda: [a.copy() for a in params.arrays()]
    restored: dict[str, list] = {}
    task.restore = lambda weights: restored.update(weights=weights)
    if not task.evaluates:
        task.logger.info("BPR-MF: no validation interactions: training %d epochs, keeping the last (no best-epoch "
                         "selection)", epochs)
    best = harness.BestEpoch("val_auc" if task.evaluates else None)
    state = harness.TrainingState("bpr_mf", {})
    start = time.perf_counter()
    harness.run_epochs(task, state, epochs=epochs, seed=seed, best=best, eval_every=eval_every, progress=progress,
                       show=verbose >= 1, desc="BPR-MF epochs")
    best_epoch = harness.finish(task, state, best, show=verbose >= 1)
    seconds = time.perf_counter() - start
    kept = restored.get("weights", params.arrays())
    chosen = MF.MFParams(*kept) if item_bias else MF.MFParams(*kept, None)
    model = _keras_bpr_mf(chosen, lambda_u=lambda_u, lambda_i=lambda_i)
    return BPRResult(model, inter, chosen.item.copy(), plain_history(state.history), best_epoch - 1, seconds,
                     "bpr_mf", None, None if chosen.bias is None else chosen.bias.copy(),
                     selection=selection(task.evaluates))


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
