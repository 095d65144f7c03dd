"""Checkpoints on disk: a trainer's model files and its :class:`~fashionsim.harness.state.TrainingState`, atomically.

Two layouts, one rule (a checkpoint is either complete on disk or absent, so ``kill -9`` at any
moment leaves the last complete one):

* a **folder** (``out_dir/checkpoint/`` by default): the model files and ``state.json`` are
  written into a fresh folder that then replaces the old one in one rename;
* **flat** (``folder=None``): the files go straight into ``out_dir`` under names that change
  every epoch (``checkpoint-0003.keras``), then ``state.json`` naming them is replaced
  atomically, then the older files matching ``stale`` are removed.

>>> import tempfile
>>> out = Path(tempfile.mkdtemp())
>>> checkpoints = Checkpoints(out, "demo")
>>> state = TrainingState("demo", {"seed": 0}, epoch=1)
>>> _ = checkpoints.write(state, lambda folder, previous: [])
>>> checkpoints.read({"seed": 0}).epoch
1
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from fashionsim._io import atomic_dir
from fashionsim.harness.state import CHECKPOINT_DIR, STATE_FILE, TrainingState, check_config, read_state, write_state

__all__ = ["Checkpoints"]

#: ``write_files(folder, previous)``: write the model files into ``folder`` and return their names;
#: ``previous`` is the last checkpoint's folder (files that did not change can be copied from it), or None.
WriteFiles = Callable[[Path, "Path | None"], Iterable[str]]


class Checkpoints:
    """The checkpoint of one trainer (``trainer``, e.g. ``"siamese"``) under ``out_dir``."""

    def __init__(self, out_dir: str | os.PathLike, trainer: str, *, folder: str | None = CHECKPOINT_DIR,
                 stale: str | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.trainer = trainer
        self.folder = folder
        self.stale = stale

    @property
    def path(self) -> Path:
        """The folder holding ``state.json`` and the model files."""
        return self.out_dir / self.folder if self.folder is not None else self.out_dir

    @property
    def state_path(self) -> Path:
        return self.path / STATE_FILE

    def read(self, config: dict | None = None, *, keys: Iterable[str] | None = None,
             required: bool = False) -> TrainingState | None:
        """The saved state (None without one, unless ``required``), checked against ``config`` on ``keys``.

        ValueError when the checkpoint was made with other settings; FileNotFoundError when a
        file the state names is missing.
        """
        state = read_state(self.state_path, self.trainer)
        if state is None:
            if required:
                raise FileNotFoundError(f"no checkpoint in {self.path}: {STATE_FILE} not found")
            return None
        if config is not None:
            check_config(state.config, config, str(self.path), keys)
        missing = [name for name in state.files if not (self.path / name).is_file()]
        if missing:
            raise FileNotFoundError(f"checkpoint incomplete: {self.path / missing[0]} is missing")
        return state

    def write(self, state: TrainingState, write_files: WriteFiles) -> Path:
        """Write the model files (``write_files``) and ``state`` as one checkpoint; returns its folder."""
        previous = self.path if self.state_path.is_file() else None
        if self.folder is not None:
            with atomic_dir(self.path) as tmp:
                state.files = sorted(write_files(tmp, previous))
                write_state(tmp / STATE_FILE, state)
            return self.path
        self.path.mkdir(parents=True, exist_ok=True)
        state.files = sorted(write_files(self.path, previous))
        write_state(self.state_path, state)
        if self.stale is not None:
            for old in self.path.glob(self.stale):
                if old.name not in state.files:
                    old.unlink()
        return self.path
