"""The training harness on a toy trainer: the loop, the state format, checkpoints, resume and selection."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from fashionsim import harness
from fashionsim.harness import BestEpoch, Checkpoints, EpochTask, TrainingState, run_epochs


class Toy(EpochTask):
    """A 'model' of one number: each epoch adds a draw of the global NumPy stream (reseeded per epoch)."""

    evaluates = True
    eval_keys = ("score",)

    def __init__(self, scores=None, stop_at=None):
        self.weight = 0.0
        self.scores = scores or {}
        self.stop_at = stop_at
        self.evaluated = []

    def train_epoch(self, epoch):
        self.weight += float(np.random.random())
        return {"epoch": epoch + 1, "loss": self.weight}

    def evaluate(self, epoch):
        self.evaluated.append(epoch + 1)
        return {"score": self.scores.get(epoch + 1, float(epoch))}

    def end_epoch(self, entry):
        return entry["epoch"] == self.stop_at

    def snapshot(self):
        return self.weight

    def restore(self, weights):
        self.weight = weights

    def write_checkpoint(self, folder, previous, best, improved):
        (folder / "toy.json").write_text(json.dumps({"weight": self.weight, "best": best.weights}))
        return ["toy.json"]


def resume_toy(checkpoints: Checkpoints, config: dict, best: BestEpoch, **toy):
    state = checkpoints.read(config)
    task = Toy(**toy)
    saved = json.loads((checkpoints.path / "toy.json").read_text())
    task.weight = saved["weight"]
    best.resume(state, lambda: saved["best"])
    return task, state


def test_to_json_makes_numbers_plain():
    value = {"a": np.float32(0.5), "b": np.int64(3), "c": (np.bool_(True), float("nan"), -np.inf),
             "d": np.arange(2), "e": Path("x/y")}
    assert harness.to_json(value) == {"a": 0.5, "b": 3, "c": [True, None, None], "d": [0, 1], "e": "x/y"}
    json.dumps(harness.to_json(value), allow_nan=False)


def test_state_records_aligned_history_and_round_trips(tmp_path):
    state = TrainingState("toy", {"seed": 0}, extra={"classes": ["a"]})
    state.record({"loss": 1.0}, seconds=0.5)
    state.record({"loss": 0.5, "val": 0.7}, seconds=0.5)
    state.record({"val": 0.8}, seconds=1.0)
    assert state.history == {"loss": [1.0, 0.5, None], "val": [None, 0.7, 0.8]}
    assert state.epoch == 3 and state.seconds == 2.0
    harness.write_state(tmp_path / "state.json", state)
    data = json.loads((tmp_path / "state.json").read_text())
    assert data["format"] == harness.FORMAT and data["trainer"] == "toy" and data["classes"] == ["a"]
    again = harness.read_state(tmp_path / "state.json", "toy")
    assert again == state
    with pytest.raises(ValueError, match="not of the other trainer"):
        harness.read_state(tmp_path / "state.json", "other")
    assert harness.read_state(tmp_path / "missing.json", "toy") is None
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a valid training state"):
        harness.read_state(tmp_path / "bad.json", "toy")
    (tmp_path / "odd.json").write_text(json.dumps({"format": "something/9"}))
    with pytest.raises(ValueError, match="unknown training state format"):
        harness.read_state(tmp_path / "odd.json", "toy")


def test_states_of_the_former_formats_are_read(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "epoch": 2, "checkpoint": "checkpoint-0002.keras",
                                "history": {"loss": [1.0, 0.9]}, "classes": ["red"], "seconds": 3.0,
                                "config": {"input_size": 32, "seed": 0}}))
    ml = harness.read_state(path, "multilabel")
    assert ml.epoch == 2 and ml.config == {"image_size": 32, "seed": 0} and ml.extra["checkpoint"].endswith("2.keras")
    path.write_text(json.dumps({"epoch": 3, "config": {"input_size": 32}, "history": {"epoch": [1, 2, 3]},
                                "format": "fashionsim.siamese/1", "select_by": "val_recall@1", "best_epoch": 2,
                                "best_value": 0.5}))
    siamese = harness.read_state(path, "siamese")
    assert siamese.best_epoch == 2 and siamese.config == {"image_size": 32, "triplets": "mined"}
    path.write_text('{"config": {"seed": 0}, "history": {"loss": [1.0, 0.8], "val_auc": [NaN, 0.7]}, '
                    '"best_epoch": 1, "best_val_auc": 0.7, "extra": {"autoencoder_loss": [0.1]}}')
    dvbpr = harness.read_state(path, "dvbpr")
    assert dvbpr.epoch == 2 and dvbpr.best_epoch == 2 and dvbpr.best_value == 0.7   # numbered from 1 now
    assert dvbpr.history["val_auc"] == [None, 0.7] and dvbpr.extra["autoencoder_loss"] == [0.1]


def test_check_config_names_every_setting_that_differs():
    with pytest.raises(ValueError, match=r"other settings: margin=0.3 \(this call: 0.5\), seed=0 \(this call: 1\)"):
        harness.check_config({"margin": 0.3, "seed": 0, "lr": 1}, {"margin": 0.5, "seed": 1, "lr": 2}, "here",
                             keys=["margin", "seed"])
    harness.check_config({"widths": [4, 8]}, {"widths": (4, 8)}, "here")   # tuples compare as their JSON lists


def test_best_epoch_keeps_the_first_maximum_of_measured_epochs():
    best = BestEpoch("score")
    values = [(1, 0.5), (2, None), (3, float("nan")), (4, 0.9), (5, 0.9), (6, 0.2)]
    assert [best.update(e, {"score": v}, lambda e=e: e) for e, v in values] == [True, False, False, True, False,
                                                                                False]
    assert (best.epoch, best.value, best.weights) == (4, 0.9, 4)
    assert not BestEpoch(None).update(1, {"score": 1.0}, lambda: 1)
    with pytest.raises(ValueError, match="selected by 'other'"):
        BestEpoch("score").resume(TrainingState("toy", {}, select_by="other", best_epoch=1, best_value=0.1),
                                  lambda: 0)


def test_loop_evaluates_checkpoints_selects_and_logs(tmp_path, caplog):
    checkpoints = Checkpoints(tmp_path, "toy")
    state, best, task = TrainingState("toy", {"seed": 1}), BestEpoch("score"), Toy(scores={2: 5.0, 4: 1.0})
    with caplog.at_level(logging.INFO, logger="fashionsim.harness.loop"):
        run_epochs(task, state, epochs=5, seed=1, best=best, checkpoints=checkpoints, eval_every=2,
                   checkpoint_every=2, progress=False)
    assert task.evaluated == [2, 4, 5]                                  # every eval_every epochs and the last
    assert state.history["score"] == [None, 5.0, None, 1.0, 4.0] and len(state.history["seconds"]) == 5
    assert (state.best_epoch, state.best_value, best.weights) == (2, 5.0, state.history["loss"][1])
    assert caplog.text.count("epoch 3/5: ") == 1
    saved = checkpoints.read({"seed": 1})
    assert saved.epoch == 5 and saved.files == ["toy.json"] and saved.best_epoch == 2
    assert harness.finish(task, state, best) == 2 and task.weight == state.history["loss"][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]  # no temporary folder left


def test_resumed_loop_equals_an_uninterrupted_one(tmp_path):
    straight_state, straight_best, straight = TrainingState("toy", {"seed": 3}), BestEpoch("score"), Toy()
    run_epochs(straight, straight_state, epochs=4, seed=3, best=straight_best, progress=False)
    first = Checkpoints(tmp_path, "toy")
    np.random.seed(99)   # whatever the global stream holds, each epoch reseeds it from (seed, epoch)
    run_epochs(Toy(), TrainingState("toy", {"seed": 3}), epochs=2, seed=3, best=BestEpoch("score"),
               checkpoints=first, progress=False)
    best = BestEpoch("score")
    task, state = resume_toy(first, {"seed": 3}, best)
    run_epochs(task, state, epochs=4, seed=3, best=best, checkpoints=first, progress=False)
    for key in ("epoch", "loss", "score"):
        assert state.history[key] == straight_state.history[key], key
    assert task.weight == straight.weight and best.epoch == straight_best.epoch
    with pytest.raises(ValueError, match="other settings: seed=3"):
        first.read({"seed": 4})


def test_stop_checkpoints_and_a_failed_write_keeps_the_last_checkpoint(tmp_path):
    checkpoints = Checkpoints(tmp_path, "toy")
    state = TrainingState("toy", {})
    run_epochs(Toy(stop_at=2), state, epochs=5, seed=0, best=BestEpoch(None), checkpoints=checkpoints,
               checkpoint_every=10, progress=False)
    assert state.epoch == 2 and checkpoints.read().epoch == 2          # stopped, and checkpointed there

    def broken(folder, previous):
        (folder / "half.bin").write_bytes(b"x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        checkpoints.write(TrainingState("toy", {}, epoch=3), broken)
    assert checkpoints.read().epoch == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    (checkpoints.path / "toy.json").unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint incomplete"):
        checkpoints.read()
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        Checkpoints(tmp_path / "none", "toy").read(required=True)
    assert Checkpoints(tmp_path / "none", "toy").read() is None


def test_flat_checkpoints_keep_only_the_files_the_state_names(tmp_path):
    checkpoints = Checkpoints(tmp_path, "toy", folder=None, stale="model-*.bin")

    def files(epoch):
        def write(folder, previous):
            (folder / f"model-{epoch}.bin").write_bytes(b"w")
            return [f"model-{epoch}.bin"]
        return write

    (tmp_path / "notes.txt").write_text("kept")
    for epoch in (1, 2):
        checkpoints.write(TrainingState("toy", {}, epoch=epoch), files(epoch))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-2.bin", "notes.txt", "state.json"]
    assert checkpoints.read().files == ["model-2.bin"]


def test_argument_checks():
    assert harness.check_positive("epochs", np.int64(2)) == 2
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="epochs must be a positive int"):
            harness.check_positive("epochs", bad)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        harness.check_seed(-1)
