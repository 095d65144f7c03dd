"""Best-epoch selection: keep the weights of the epoch that scored highest on one history key.

Optional (``select_by=None``: the last epoch is kept). Only measured epochs compete (a value
of None or NaN never wins); the first epoch to reach the maximum wins; epochs are numbered
from 1, as in :class:`~fashionsim.harness.state.TrainingState`.

>>> best = BestEpoch("val_auc")
>>> [best.update(epoch, {"val_auc": v}, lambda: [v]) for epoch, v in [(1, 0.6), (2, None), (3, 0.7), (4, 0.7)]]
[True, False, True, False]
>>> best.epoch, best.value, best.weights
(3, 0.7, [0.7])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fashionsim.harness.state import TrainingState

__all__ = ["BestEpoch"]


class BestEpoch:
    """The best epoch so far on ``select_by`` (higher is better), with a snapshot of its weights."""

    def __init__(self, select_by: str | None) -> None:
        self.select_by = select_by
        self.epoch: int | None = None
        self.value: float | None = None
        self.weights: Any = None

    def update(self, epoch: int, entry: dict[str, Any], snapshot: Callable[[], Any]) -> bool:
        """Compare epoch ``epoch``'s ``entry`` with the best; on improvement keep ``snapshot()`` and return True."""
        if self.select_by is None:
            return False
        value = entry.get(self.select_by)
        if value is None or not (self.value is None or value > self.value) or value != value:
            return False
        self.epoch, self.value, self.weights = int(epoch), float(value), snapshot()
        return True

    def resume(self, state: TrainingState, load_weights: Callable[[], Any]) -> None:
        """Continue the selection a checkpoint recorded (``load_weights()`` reads its best weights)."""
        if self.select_by is None or state.best_epoch is None:
            return
        if state.select_by != self.select_by:
            raise ValueError(f"cannot resume: the checkpoint selected by {state.select_by!r}, this call by "
                             f"{self.select_by!r}")
        self.epoch, self.value, self.weights = int(state.best_epoch), float(state.best_value), load_weights()

    def save_to(self, state: TrainingState) -> None:
        state.select_by, state.best_epoch, state.best_value = self.select_by, self.epoch, self.value
