"""The one training state: what a checkpoint records beside its model files, as one JSON document.

Every trainer writes the same keys (``format``, ``trainer``, ``epoch``, ``config``, ``history``,
``select_by``, ``best_epoch``, ``best_value``, ``seconds``, ``files``) plus a few of its own
(the multilabel trainer's ``classes``, say), always through :func:`to_json`, the one place
where numbers become JSON. ``epoch`` counts the epochs completed, so epochs are numbered from
1: ``best_epoch`` 3 is the third epoch. ``None`` in a history means "not measured that epoch".

>>> state = TrainingState("demo", {"seed": 0})
>>> state.record({"loss": np.float32(0.5), "val_auc": float("nan")}, seconds=1.5)
>>> state.to_dict()["history"], state.epoch
({'loss': [0.5], 'val_auc': [None]}, 1)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim._io import write_text_atomic

__all__ = ["FORMAT", "CHECKPOINT_DIR", "MODEL_FILE", "STATE_FILE", "TrainingState", "to_json", "read_state",
           "write_state", "check_config"]

FORMAT = "fashionsim.training/1"
#: The folder a trainer's checkpoint lives in, under its ``out_dir``.
CHECKPOINT_DIR = "checkpoint"
#: A trained model as one ``.keras`` file (the checkpoint's model, or the final one).
MODEL_FILE = "model.keras"
#: The training state (this module's JSON document).
STATE_FILE = "state.json"
_KEYS = ("format", "trainer", "epoch", "config", "history", "select_by", "best_epoch", "best_value", "seconds",
         "files")


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data: NumPy numbers and arrays, tuples and paths made plain; NaN and ±inf -> None."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


@dataclasses.dataclass
class TrainingState:
    """Where a training run stands: epochs done, their history, the best epoch so far, its own extras."""

    trainer: str
    config: dict[str, Any]
    epoch: int = 0
    history: dict[str, list] = dataclasses.field(default_factory=dict)
    select_by: str | None = None
    best_epoch: int | None = None
    best_value: float | None = None
    seconds: float = 0.0
    files: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def record(self, entry: dict[str, Any], *, seconds: float) -> None:
        """Append one epoch's ``entry`` (key -> value) to the history; a key missing on an epoch gets None there."""
        for key, value in entry.items():
            self.history.setdefault(key, [None] * self.epoch).append(to_json(value))
        for key, values in self.history.items():
            if key not in entry:
                values.append(None)
        self.epoch += 1
        self.seconds += float(seconds)

    def to_dict(self) -> dict[str, Any]:
        common = {"format": FORMAT, "trainer": self.trainer, "epoch": self.epoch, "config": self.config,
                  "history": self.history, "select_by": self.select_by, "best_epoch": self.best_epoch,
                  "best_value": self.best_value, "seconds": self.seconds, "files": self.files}
        return to_json({**self.extra, **common})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingState:
        return cls(trainer=data["trainer"], config=dict(data["config"]), epoch=int(data["epoch"]),
                   history={k: list(v) for k, v in data["history"].items()}, select_by=data.get("select_by"),
                   best_epoch=data.get("best_epoch"), best_value=data.get("best_value"),
                   seconds=float(data.get("seconds") or 0.0), files=list(data.get("files") or []),
                   extra={k: v for k, v in data.items() if k not in _KEYS})


def read_state(path: str | os.PathLike, trainer: str) -> TrainingState | None:
    """The state at ``path``, or None when there is no such file; ValueError when it is not one of ``trainer``'s."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid training state ({exc})") from exc
    if isinstance(data, dict) and data.get("format") != FORMAT:
        data = _upgrade(data, trainer)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown training state format (expected {FORMAT!r})")
    if data["trainer"] != trainer:
        raise ValueError(f"{path}: a state of the {data['trainer']} trainer, not of the {trainer} trainer")
    return TrainingState.from_dict(data)


def write_state(path: str | os.PathLike, state: TrainingState) -> Path:
    """Write ``state`` to ``path`` atomically (no NaN in the file: JSON has none)."""
    return write_text_atomic(path, json.dumps(state.to_dict(), indent=1, allow_nan=False))


def check_config(saved: dict[str, Any], given: dict[str, Any], where: str, keys=None) -> None:
    """ValueError naming every setting (of ``keys``, default all) in which ``given`` differs from ``saved``."""
    keys = list(given) if keys is None else list(keys)
    given = to_json(given)
    differ = [k for k in keys if saved.get(k) != given.get(k)]
    if differ:
        shown = ", ".join(f"{k}={saved.get(k)!r} (this call: {given.get(k)!r})" for k in differ)
        raise ValueError(f"cannot resume from {where}: it was trained with other settings: {shown}")


def _upgrade(data: dict[str, Any], trainer: str) -> dict[str, Any]:
    """A state written before this format (one per trainer), in this format; anything else unchanged."""
    config = dict(data.get("config") or {})
    if "input_size" in config:
        config["image_size"] = config.pop("input_size")
    out = {**data, "format": FORMAT, "trainer": trainer, "config": config, "files": []}
    if trainer == "multilabel" and data.get("version") == 1:
        del out["version"]
    elif trainer == "siamese" and data.get("format") == "fashionsim.siamese/1":
        config.setdefault("triplets", "mined")
    elif trainer == "dvbpr" and "best_val_auc" in data and "epoch" not in data:
        best = int(data["best_epoch"])
        history = {k: [None if isinstance(v, float) and math.isnan(v) else v for v in values]
                   for k, values in data["history"].items()}
        out.update(epoch=len(history["val_auc"]), history=history, best_epoch=best + 1 if best >= 0 else None,
                   best_value=to_json(data["best_val_auc"]), select_by="val_auc" if best >= 0 else None,
                   **data.get("extra", {}))
        out.pop("best_val_auc")
        out.pop("extra", None)
    else:
        return data
    return out
