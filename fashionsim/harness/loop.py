"""The epoch loop every fashionsim trainer runs on, and the hooks a trainer fills in.

:func:`run_epochs` owns what is the same for all: the epochs from where the state stands, the
per-epoch seeding of :mod:`fashionsim.repeatable` (so a resumed run draws what an uninterrupted
one draws), when to evaluate (every ``eval_every`` epochs and at the last), best-epoch
selection, the history, one log line per epoch, when to checkpoint, stopping early. A trainer
says what an epoch is by subclassing :class:`EpochTask` (its hooks are named like Keras
callbacks'): it draws the epoch's data (re-mining, re-drawing triplets or BPR triples) and
trains on it, evaluates, describes the epoch in one line and writes its model files.

Why not ``model.fit(epochs=n)`` with Keras callbacks: every epoch trains on data drawn afresh
from the model of the epoch before (mined triplets) and two trainers take their steps outside
``fit`` (BPR-MF in NumPy, DVBPR's one-pass-per-item steps); ``keras.callbacks.BackupAndRestore``
restores weights and the epoch counter but not the history, the best epoch or a sampler, and
removes its backup when ``fit`` ends. Each epoch is one short ``fit`` (or step loop) here, which
is what keeps the weights of a resumed run byte-identical to an uninterrupted one.

>>> class Count(EpochTask):
...     evaluates = True
...     def train_epoch(self, epoch):
...         return {"loss": 1.0 / (epoch + 1)}
...     def evaluate(self, epoch):
...         return {"score": float(epoch)}
...     def snapshot(self):
...         return "weights"
>>> state = TrainingState("demo", {})
>>> _ = run_epochs(Count(), state, epochs=3, seed=0, best=BestEpoch("score"), eval_every=2, progress=False)
>>> state.history["score"], state.best_epoch
([None, 1.0, 2.0], 3)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fashionsim._progress import progress as _progress
from fashionsim._progress import report
from fashionsim.harness.checkpoint import Checkpoints
from fashionsim.harness.selection import BestEpoch
from fashionsim.harness.state import TrainingState

__all__ = ["EpochTask", "run_epochs", "finish"]

logger = logging.getLogger(__name__)


class EpochTask:
    """What one epoch of a trainer is. Override :meth:`train_epoch`; the other hooks are optional.

    ``seed_model``: the Keras model whose seed generators are reseeded every epoch (None: the
    global streams only). ``evaluates`` / ``eval_keys``: whether :meth:`evaluate` runs, and the
    keys it fills (None on the epochs without evaluation). ``timed``: add ``seconds`` to each
    epoch's history. ``logger``: where the epoch lines go.
    """

    seed_model: Any = None
    evaluates: bool = False
    eval_keys: Sequence[str] = ()
    timed: bool = True
    logger: logging.Logger = logger

    def begin(self, epoch: int) -> None:
        """Before the first epoch of this call (``epoch``: the first one to train, 0-based)."""

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        """Draw epoch ``epoch``'s data (0-based), train on it, return its history entries."""
        raise NotImplementedError

    def evaluate(self, epoch: int) -> dict[str, Any]:
        """Validation entries of epoch ``epoch`` (on the epochs due, when ``evaluates``)."""
        return {}

    def describe(self, entry: dict[str, Any], epoch: int, epochs: int) -> str | None:
        """The epoch's log line (None: no line)."""
        return f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in entry.items()
                                                       if isinstance(v, float))

    def end_epoch(self, entry: dict[str, Any]) -> bool:
        """After the epoch is recorded and logged: warnings, and True to stop training here."""
        return False

    def snapshot(self) -> Any:
        """The weights best-epoch selection keeps."""
        raise NotImplementedError

    def restore(self, weights: Any) -> None:
        """Put the kept weights back."""
        raise NotImplementedError

    def write_checkpoint(self, folder: Path, previous: Path | None, best: BestEpoch, improved: bool) -> list[str]:
        """Write the model files of a checkpoint into ``folder``; return their names."""
        raise NotImplementedError


def run_epochs(task: EpochTask, state: TrainingState, *, epochs: int, seed: int, best: BestEpoch,
               checkpoints: Checkpoints | None = None, eval_every: int = 1, checkpoint_every: int = 1,
               progress: bool = True, show: bool = False, desc: str = "epochs") -> TrainingState:
    """Train ``task`` from ``state.epoch`` up to ``epochs`` (in total); returns ``state``, updated.

    Evaluates every ``eval_every`` epochs and at the last; checkpoints every ``checkpoint_every``
    epochs, at the last and when the task stops early; ``show`` prints the epoch lines (above
    any progress bar) besides logging them.
    """
    from fashionsim.repeatable import seed_epoch

    start = state.epoch
    if start < epochs:
        task.begin(start)
    for epoch in _progress(range(start, epochs), enabled=progress, total=epochs - start, desc=desc):
        tick = time.perf_counter()
        seed_epoch(seed, epoch, task.seed_model)
        entry = dict(task.train_epoch(epoch))
        last = epoch + 1 == epochs
        if task.evaluates and ((epoch + 1) % eval_every == 0 or last):
            entry.update(task.evaluate(epoch))
        else:
            entry.update(dict.fromkeys(task.eval_keys))
        improved = best.update(epoch + 1, entry, task.snapshot)
        seconds = time.perf_counter() - tick
        if task.timed:
            entry["seconds"] = seconds
        state.record(entry, seconds=seconds)
        best.save_to(state)
        line = task.describe(entry, epoch + 1, epochs)
        if line is not None:
            report(line, logger=task.logger, show=show)
        stop = task.end_epoch(entry)
        if checkpoints is not None and ((epoch + 1) % checkpoint_every == 0 or last or stop):
            checkpoints.write(state, lambda folder, previous: task.write_checkpoint(folder, previous, best,
                                                                                    improved))
        if stop:
            break
    return state


def finish(task: EpochTask, state: TrainingState, best: BestEpoch, *, show: bool = False) -> int | None:
    """Put the best epoch's weights back when it is not the last; returns the epoch kept (1-based)."""
    if best.weights is not None and best.epoch != state.epoch:
        task.restore(best.weights)
        report(f"kept the weights of epoch {best.epoch} ({best.select_by} {best.value:.3f})", logger=task.logger,
               show=show)
        return best.epoch
    return state.epoch if state.epoch else None
