"""Repeatable training: what a seed fixes, in one place.

Every trainer in fashionsim (:func:`fashionsim.training.train_siamese`,
:func:`fashionsim.multilabel.train_multilabel`,
:func:`fashionsim.recommend.train_dvbpr` in all variants,
:func:`fashionsim.recommend.train_bpr_mf`) calls :func:`seed_training` once
and :func:`seed_epoch` at the start of every epoch. Together they make the
same seed give byte-identical trained weights on the same machine, idle or
busy, fresh or resumed from a checkpoint:

* **weights**: Keras, NumPy, Python and TensorFlow's global seeds are set from
  the seed before the model is built (``keras.utils.set_random_seed``);
* **every epoch's randomness** (samplers, miners, augmentation, shuffles,
  any layer drawing from the global stream) comes from ``(seed, epoch)``
  (:func:`epoch_seed`), never from state left by earlier epochs, so a run
  resumed at epoch ``e`` draws what an uninterrupted one draws;
* **the arithmetic**: TensorFlow's op determinism
  (``tf.config.experimental.enable_op_determinism``) and a fixed number of
  threads in TensorFlow's pools (set when TensorFlow's runtime has not started
  yet; the ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` environment
  variables do the same before start-up). ``tf.data`` pipelines keep their
  order (``deterministic=True``) whatever their parallelism.

Results repeat on one machine and software stack; another CPU, thread count
or TensorFlow version may round differently. oneDNN's kernels
(``TF_ENABLE_ONEDNN_OPTS``) change the rounding too: the notebooks and tests
run with it off, so their stored outputs are compared like with like.
The cost, measured on the build machine, is in ``docs/lessons.md``.

>>> epoch_seed(0, 3) == epoch_seed(0, 3) != epoch_seed(1, 3)
True
"""

from __future__ import annotations

import logging
import os

import numpy as np

__all__ = ["seed_training", "seed_epoch", "epoch_seed", "fix_threads"]

logger = logging.getLogger(__name__)


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 31-bit seed derived from ``(seed, epoch, stream)`` alone (``stream`` tells apart the draws of one epoch)."""
    state = np.random.SeedSequence([int(seed), int(epoch), int(stream)]).generate_state(1)
    return int(state[0] % (2**31 - 1))


def fix_threads(threads: int | None = None) -> bool:
    """Fix TensorFlow's intra- and inter-op pools to ``threads`` (default: the machine's CPU count).

    Only possible before TensorFlow's runtime starts; returns whether the
    pools were set (False: they keep the size they started with, which is
    fixed for the process anyway).
    """
    import tensorflow as tf

    threads = int(threads or os.cpu_count() or 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is up: its pools are already fixed for this process
        return False
    return True


def seed_training(seed: int, *, deterministic_ops: bool = True) -> None:
    """Seed everything a trainer draws from and turn on TensorFlow's op determinism.

    Called by every fashionsim trainer before it builds its model; call it
    yourself before building a model you pass in (``model=``) so that its
    initial weights repeat too.
    """
    import keras
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    fix_threads()
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(int(seed))


def seed_epoch(seed: int, epoch: int, model=None) -> int:
    """Reseed the global streams for ``epoch`` from ``(seed, epoch)``; returns that epoch's seed.

    With ``model``, also the state of each of its Keras seed generators (the
    randomness of ``Dropout``, noise and random-augmentation layers), which a
    saved ``.keras`` file does not keep: so a resumed run drops out the units an
    uninterrupted one drops.
    """
    import keras

    value = epoch_seed(seed, epoch)
    keras.utils.set_random_seed(value)
    if model is not None:
        generators = [v for v in model.variables if v.name == "seed_generator_state"]
        for stream, state in enumerate(generators, start=1):
            state.assign(np.array([epoch_seed(seed, epoch, stream), 0], dtype=state.dtype))
    return value
