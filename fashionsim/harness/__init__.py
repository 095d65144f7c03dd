"""The one training harness: the epoch loop, checkpoints, resume and selection every trainer runs on.

:func:`fashionsim.training.train_siamese` (mined and metadata triplets),
:func:`fashionsim.multilabel.train_multilabel`, :func:`fashionsim.recommend.train_dvbpr` and
:func:`fashionsim.recommend.train_bpr_mf` each describe one epoch as an :class:`EpochTask`; the
harness owns the rest:

* :mod:`~fashionsim.harness.loop` — the epochs, a per-epoch hook, evaluation every ``eval_every``
  epochs, one log line per epoch (``logging``, and printed on request), early stop;
* :mod:`~fashionsim.harness.state` — the one state format (``state.json``) and :func:`to_json`;
* :mod:`~fashionsim.harness.checkpoint` — atomic checkpoints and resume checked against the settings;
* :mod:`~fashionsim.harness.selection` — optional best-epoch selection (``select_by``);
* :mod:`~fashionsim.harness.distribute` — an optional ``tf.distribute`` strategy;
* :func:`begin` and the loop's per-epoch seeding — the repeatable-training settings of
  :mod:`fashionsim.repeatable` (same seed, same weights: idle or busy, fresh or resumed).

Nothing here imports TensorFlow until a trainer runs.
"""

from __future__ import annotations

from fashionsim.harness.arguments import check_positive, check_seed
from fashionsim.harness.checkpoint import Checkpoints
from fashionsim.harness.distribute import (
    check_replicas,
    fit_epoch,
    is_default_strategy,
    resolve_strategy,
    strategy_scope,
)
from fashionsim.harness.loop import EpochTask, finish, run_epochs
from fashionsim.harness.selection import BestEpoch
from fashionsim.harness.state import (
    CHECKPOINT_DIR,
    FORMAT,
    MODEL_FILE,
    STATE_FILE,
    TrainingState,
    check_config,
    read_state,
    to_json,
    write_state,
)

__all__ = [
    "begin", "EpochTask", "run_epochs", "finish", "BestEpoch", "Checkpoints", "TrainingState", "to_json",
    "read_state", "write_state", "check_config", "FORMAT", "CHECKPOINT_DIR", "MODEL_FILE", "STATE_FILE",
    "resolve_strategy", "strategy_scope", "check_replicas", "is_default_strategy", "fit_epoch", "check_positive", "check_seed",
]


def begin(seed: int) -> None:
    """Seed everything a trainer draws from, fix TensorFlow's threads and turn on op determinism.

    Call it once per run, before the model is built or loaded (:func:`fashionsim.repeatable.seed_training`).
    """
    from fashionsim.repeatable import seed_training

    seed_training(seed)
