"""An optional ``tf.distribute`` strategy: where models are built, and batches that split across replicas.

A trainer given ``strategy=`` builds (or loads) and compiles its model inside ``strategy.scope()``;
Keras' ``fit`` then splits every global batch across the replicas and sums their gradients.
Without one, the current strategy (TensorFlow's default: one device) is used.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

__all__ = ["resolve_strategy", "strategy_scope", "check_replicas", "is_default_strategy", "fit_epoch"]


def resolve_strategy(strategy: Any = None):
    """``strategy``, or the current one (TensorFlow's default strategy outside any scope)."""
    import tensorflow as tf

    return strategy if strategy is not None else tf.distribute.get_strategy()


def strategy_scope(strategy: Any = None):
    """``strategy.scope()``, or a context that does nothing when ``strategy`` is None."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def is_default_strategy(strategy: Any = None) -> bool:
    """Whether training runs on TensorFlow's default strategy (one device, no scope entered)."""
    import tensorflow as tf

    return not tf.distribute.has_strategy() and (strategy is None or strategy is tf.distribute.get_strategy())


def check_replicas(batch: int, strategy: Any, what: str, unit: str = "examples") -> int:
    """ValueError unless ``batch`` (the global batch) splits evenly over ``strategy``'s replicas; returns them."""
    replicas = int(resolve_strategy(strategy).num_replicas_in_sync)
    if batch % replicas:
        raise ValueError(f"{what} ({batch}) must be a multiple of the {replicas} replicas of the strategy, "
                         f"so every replica receives whole {unit}")
    return replicas


_MULTI_WORKER_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit_epoch(model, dataset, epoch: int, *, strategy: Any = None, verbose: int = 0) -> dict[str, float]:
    """Train ``model`` one epoch (number ``epoch``, 0-based) on ``dataset``; the epoch's logs.

    Keras' ``fit``, except under a ``MultiWorkerMirroredStrategy``, where Keras 3's ``fit`` fails
    (keras-team/keras#20585): there the model's own ``train_step`` runs on every replica through
    ``strategy.run``, and afterwards the non-trainable variables (BatchNormalization's moving
    statistics, which each worker updates from its own share of the batch) are averaged over the
    workers, so that every worker holds the same model.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        history = model.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, verbose=verbose).history
        return {k: float(v[-1]) for k, v in history.items()}
    step, average = _multi_worker_functions(model, strategy)
    model.reset_metrics()
    logs: dict = {}
    for batch in strategy.experimental_distribute_dataset(dataset):
        logs = step(batch)   # running means: after the last batch, the epoch's logs
    for variable, value in zip(model.non_trainable_variables, average()):
        variable.assign(value)
    return {k: float(v) for k, v in logs.items()}


def _multi_worker_functions(model, strategy):
    """(one distributed train step, the workers' mean of the non-trainable variables), built once per model."""
    import tensorflow as tf

    if model not in _MULTI_WORKER_STEPS:
        with strategy.scope():
            model.optimizer.build(model.trainable_variables)   # the slots, in cross-replica context

        @tf.function
        def step(batch):
            logs = strategy.run(model.train_step, args=(batch,))
            return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

        @tf.function
        def average():
            local = strategy.run(lambda: [tf.identity(v) for v in model.non_trainable_variables])
            return [strategy.reduce("MEAN", t, axis=None) for t in local]

        _MULTI_WORKER_STEPS[model] = (step, average)
    return _MULTI_WORKER_STEPS[model]
