"""How one batch of BPR triples (u, i, j) meets the item encoder: three ways of taking a training step.

* :func:`triples_dataset` + Keras ``fit``: every triple's two pictures (or features) gathered and
  encoded — the plain siamese model; the way that runs under any ``tf.distribute`` strategy;
* :func:`catalog_step`: the encoder applied once to *every* item per step (a small catalog);
* :func:`distinct_items_step`: the encoder applied once to each *distinct* item of the batch, its
  pictures read from a :class:`~fashionsim.recommend.pictures.PictureCache` (a large catalog).

All three give x_uij = θ_u · (f(i) − f(j)) and the loss of the siamese DVBPR model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["triples_dataset", "catalog_step", "run_catalog_epoch", "distinct_items_step", "run_distinct_epoch",
           "distributed_catalog_step", "run_distributed_epoch"]


def triples_dataset(u: np.ndarray, i: np.ndarray, j: np.ndarray, table, batch_size: int, *, gather=None,
                    picture_shape: tuple[int, ...] = ()):
    """A tf.data pipeline of ((user, item_i, item_j), zeros) batches.

    Items are gathered from ``table`` (a tensor) when given, or by ``gather(rows)`` (a NumPy
    function returning float32 pictures of ``picture_shape``, e.g. a picture cache), else left as codes.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((u.astype(np.int32), i.astype(np.int32), j.astype(np.int32)))
    ds = ds.batch(batch_size)
    if table is not None:
        ds = ds.map(lambda uu, ii, jj: ((uu, tf.gather(table, ii), tf.gather(table, jj)),
                                        tf.zeros(tf.shape(uu), tf.float32)))
    elif gather is not None:
        def pictures(rows):
            out = tf.numpy_function(gather, [rows], tf.float32)
            out.set_shape(rows.shape.concatenate(picture_shape))
            return out

        ds = ds.map(lambda uu, ii, jj: ((uu, pictures(ii), pictures(jj)), tf.zeros(tf.shape(uu), tf.float32)))
    else:
        ds = ds.map(lambda uu, ii, jj: ((uu, ii, jj), tf.zeros(tf.shape(uu), tf.float32)))
    return ds.prefetch(tf.data.AUTOTUNE)


def _bpr_objective(train_model, tower):
    """(users' variables, λ_u, the trainable variables, the optimizer) of a compiled DVBPR model."""
    from fashionsim.recommend.models import USER_EMBEDDING

    user_layer = train_model.get_layer(USER_EMBEDDING)
    return user_layer.embeddings, user_layer.l2, train_model.trainable_variables, train_model.optimizer


def _mean_loss_step(users, lambda_u, variables, optimizer, tower, pictures, u, i, j):
    """One optimizer step on a batch: f = tower(pictures), i and j index f's rows; (loss, in-batch accuracy).

    The loss is the siamese DVBPR model's: mean softplus(−x_uij) + λ_u mean ‖θ_u‖² + the tower's penalties.
    """
    import tensorflow as tf

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


def _epoch_logs(losses: list[float], accuracies: list[float], sizes: list[int]) -> dict[str, float]:
    """The epoch's loss and in-batch accuracy: the batches' values weighted by their sizes."""
    return {"loss": float(np.average(losses, weights=sizes)),
            "pairwise_accuracy": float(np.average(accuracies, weights=sizes))}


def distinct_items_step(train_model, tower):
    """A compiled step over a batch of triples that encodes each *distinct* item of the batch once.

    Inputs: user codes (B,), the positions of i and of j among the batch's
    distinct items (B,), and those items' pictures (M, s, s, 3), M ≤ 2B. x_uij =
    θ_u · (f(i) − f(j)) and the loss are the siamese model's. Returns
    ``step(u, i_local, j_local, pictures) -> (loss, accuracy)``.
    """
    import tensorflow as tf

    users, lambda_u, variables, optimizer = _bpr_objective(train_model, tower)
    spec = tf.TensorSpec([None], tf.int32)
    size = int(tower.input_shape[1])

    @tf.function(input_signature=[spec, spec, spec, tf.TensorSpec([None, size, size, 3], tf.float32)],
                 reduce_retracing=True)
    def step(u, i, j, pictures):
        return _mean_loss_step(users, lambda_u, variables, optimizer, tower, pictures, u, i, j)

    return step


def run_distinct_epoch(step, pictures, u, i, j, batch_size: int) -> dict[str, float]:
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
    return _epoch_logs(losses, accuracies, sizes)


def catalog_step(train_model, tower, table):
    """A compiled training step that embeds *every* item once, then scores a batch of triples.

    x_uij = θ_u · (f(i) − f(j)) and the loss are exactly the siamese model's; only
    f is computed once per item per step instead of twice per triple — cheaper
    when the catalog is smaller than two batches of triples (the demo), so
    ``item_pass="auto"`` picks it there. Returns ``step(u, i, j) -> (loss, accuracy)``.
    """
    import tensorflow as tf

    users, lambda_u, variables, optimizer = _bpr_objective(train_model, tower)
    table = tf.constant(table)
    spec = tf.TensorSpec([None], tf.int32)

    @tf.function(input_signature=[spec, spec, spec], reduce_retracing=True)
    def step(u, i, j):
        return _mean_loss_step(users, lambda_u, variables, optimizer, tower, table, u, i, j)

    return step


def run_catalog_epoch(step, u, i, j, batch_size: int) -> dict[str, float]:
    """Batches of triples through a :func:`catalog_step`; the epoch's mean loss and in-batch accuracy."""
    losses, accuracies, sizes = [], [], []
    for k in range(0, len(u), batch_size):
        loss, accuracy = step(u[k:k + batch_size].astype(np.int32), i[k:k + batch_size].astype(np.int32),
                              j[k:k + batch_size].astype(np.int32))
        losses.append(float(loss))
        accuracies.append(float(accuracy))
        sizes.append(min(batch_size, len(u) - k))
    return _epoch_logs(losses, accuracies, sizes)


def distributed_catalog_step(strategy, train_model, tower, table):
    """:func:`catalog_step` under a ``tf.distribute`` strategy: each replica scores its share of the global batch.

    Every replica encodes the whole item table (so BatchNormalization sees the same statistics
    everywhere), the per-triple terms are summed and divided by the *global* batch size, the
    tower's penalties by the number of replicas, and the optimizer sums the replicas' gradients:
    one step equals the single-device step up to rounding. Returns ``step(batch, n) -> (loss,
    accuracy)`` for a batch of :meth:`strategy.experimental_distribute_dataset` holding ``n`` triples
    in all (a float32 scalar tensor, given rather than all-reduced: the only collective of a step
    is then the optimizer's sum of the gradients).
    """
    import tensorflow as tf

    users, lambda_u, variables, optimizer = _bpr_objective(train_model, tower)
    table = tf.constant(table)
    if not optimizer.built:   # its slots are made here, in cross-replica context, not inside the replica step
        with strategy.scope():
            optimizer.build(variables)

    def replica_step(u, i, j, n):
        with tf.GradientTape() as tape:
            vectors = tower(table, training=True)
            theta = tf.gather(users, u)
            x = tf.reduce_sum(theta * (tf.gather(vectors, i) - tf.gather(vectors, j)), axis=-1)
            per_triple = tf.nn.softplus(-x) + lambda_u * tf.reduce_sum(tf.square(theta), axis=-1)
            loss = tf.reduce_sum(per_triple) / n
            if tower.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(tower.losses))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_sum(tf.cast(x > 0, tf.float32)) / n

    @tf.function(reduce_retracing=True)
    def step(batch, n):
        loss, accuracy = strategy.run(replica_step, args=(*batch, n))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, accuracy, axis=None))

    return step


def run_distributed_epoch(step, strategy, u, i, j, batch_size: int) -> dict[str, float]:
    """The epoch's triples as global batches of ``batch_size`` split across the replicas, through ``step``."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((u.astype(np.int32), i.astype(np.int32), j.astype(np.int32)))
    losses, accuracies, sizes = [], [], []
    for k, batch in enumerate(strategy.experimental_distribute_dataset(ds.batch(batch_size))):
        sizes.append(min(batch_size, len(u) - k * batch_size))
        loss, accuracy = step(batch, tf.constant(sizes[-1], tf.float32))
        losses.append(float(loss))
        accuracies.append(float(accuracy))
    return _epoch_logs(losses, accuracies, sizes)
