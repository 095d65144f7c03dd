"""Distributed training for real: two replicas in one process, and two worker processes on 127.0.0.1.

Multi-replica: ``MirroredStrategy`` over two logical CPU devices. The devices must be configured
before TensorFlow initialises, so every run is a fresh interpreter: this file run as a script
(``python tests/test_distribute.py replicas siamese <catalog>``) trains once on one device and once
on two replicas and prints what it measured as JSON; the tests assert on it.

Multi-worker: ``fashionsim train siamese --workers 2`` (the command line, which runs
:func:`fashionsim.distribute.launch`): two processes, ``MultiWorkerMirroredStrategy``, checked to end
with equal weights, stopped within a bounded time whatever happens.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve()
#: seconds before a child process (and every process it started) is killed: a test never hangs
CHILD_TIMEOUT = 150



# ------------------------------------------------------------------------------------------ helpers
def _environment() -> dict:
    env = dict(os.environ)
    env.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0", CUDA_VISIBLE_DEVICES="-1",
               KERAS_BACKEND="tensorflow", PYTHONHASHSEED="0", TQDM_DISABLE="1")
    env.pop("TF_CONFIG", None)
    return env


def run_bounded(command: list[str], timeout: float = CHILD_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group; on timeout kill the whole group (its workers too) and fail."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_environment(), start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{command[:6]} did not finish within {timeout} s (killed); stderr tail:\n{err[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _json_tail(text: str) -> dict:
    """The JSON object the child printed last (anything the libraries print before it is skipped)."""
    return json.loads(text[text.rindex("\n{") + 1:] if not text.startswith("{") else text)


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory) -> Path:
    """A generated catalog of 40 products (28 train), 2 shop + 2 street photos each at 32 px, 30 users."""
    from fashionsim.data import make_demo

    folder = tmp_path_factory.mktemp("distribute") / "demo"
    make_demo(folder, seed=0, n_products=40, n_users=30, image_size=32)
    return folder


def _replicas(model: str, catalog: Path) -> dict:
    result = run_bounded([sys.executable, str(HERE), "replicas", model, str(catalog)])
    assert result.returncode == 0, result.stderr[-3000:]
    return _json_tail(result.stdout)


# ------------------------------------------------------------------------------------------ multi-replica
# Tolerances, measured on this machine (TF 2.21, Keras 3.15; 2 epochs of 2 steps, Adam at 1e-4) and set
# with a margin. "relative" = max |w_two - w_one| / max |w_one - w_initial|: the difference against how far
# training moved the weights.
# * Without BatchNormalization: max |diff| 1.5e-8 (relative 3.7e-5), equal losses. Not bit-exact because
#   the gradient of the global batch is the all-reduced sum of two half-batch gradients, added in another
#   order than one device adds 42 rows (float32 rounding). Tolerance ~70x the measure.
# * small_cnn (with BatchNormalization): max |diff| 2.2e-3 (relative 0.048), loss differs by 0.0125.
#   Each replica normalises with the statistics of its own 21 images (Keras' BatchNormalization is not
#   synchronised across replicas), one device with those of 42, so the forward passes differ: a
#   different computation, not rounding. Tolerance ~4x the measure.
PLAIN_ATOL, PLAIN_RELATIVE = 1e-6, 2e-3
BN_ATOL, BN_RELATIVE = 1e-2, 0.2


def test_siamese_two_replicas_match_one(tiny_demo):
    got = _replicas("siamese", tiny_demo)
    assert got["replicas"] == {"one": 1, "mirrored": 2}
    assert got["initial_weights_equal"]
    # the global batch of 14 triplets (42 images) is split: each replica trains on 7 triplets (21 images)
    assert set(got["batch_seen"]["one"]) == {42} and set(got["batch_seen"]["mirrored"]) == {21}
    # no BatchNormalization: the two runs differ only by float rounding (see the tolerances above)
    assert got["plain"]["max_abs_diff"] <= PLAIN_ATOL and got["plain"]["relative_diff"] <= PLAIN_RELATIVE, got["plain"]
    assert got["plain"]["loss_diff"] <= 1e-5, got["plain"]
    # the library's small_cnn has BatchNormalization: batch statistics over each replica's 21 images, not
    # over the 42 of the global batch, so the runs differ by more than rounding, yet stay close
    assert got["small_cnn"]["max_abs_diff"] <= BN_ATOL, got["small_cnn"]
    assert got["small_cnn"]["relative_diff"] <= BN_RELATIVE, got["small_cnn"]


# DVBPR (train_dvbpr, variant "cnn" at 16 px, item_pass "catalog", 1 epoch of 8 steps of 64 triples, Adam at
# 1e-2): every replica embeds the whole item table, so BatchNormalization sees the same batch on each one and
# only the all-reduce order differs. Measured: weights max |diff| 6.8e-5 (relative 5.6e-4 of how far training
# moved them), item vectors 5.9e-5, loss 2e-8. Larger than the siamese "plain" case because of where it
# lands: on parameters whose gradient is zero in exact arithmetic (the tower's last bias cancels in
# f(i) - f(j)), float32 noise of ~1e-10 makes Adam's first steps lr * g / (|g| + 1e-7) differ by up to ~1e-5
# each; elsewhere the gradients agree to float32 rounding (checked after one step). Tolerance ~7x the measure.
# One replica through the strategy's steps equals the default (no strategy) run: measured max |diff| 0.0;
# under 2 replicas, 1 epoch + 1 resumed from the checkpoint equals 2 straight epochs: measured 0.0.
DVBPR_ATOL, DVBPR_RELATIVE = 5e-4, 5e-3


def test_dvbpr_two_replicas_match_one(tiny_demo):
    got = _replicas("dvbpr", tiny_demo)
    assert got["replicas"] == {"one": 1, "mirrored": 2}
    assert got["odd_batch_refused"], "batch_size 63 over 2 replicas must be refused (it cannot be split evenly)"
    assert got["default_vs_one"] <= PLAIN_ATOL, got
    assert got["cnn"]["max_abs_diff"] <= DVBPR_ATOL and got["cnn"]["relative_diff"] <= DVBPR_RELATIVE, got["cnn"]
    assert got["cnn"]["vectors_max_abs_diff"] <= DVBPR_ATOL, got["cnn"]
    # a replica given the whole global batch would double the summed loss (Adam, being scale-invariant,
    # would all but hide it in the weights)
    assert got["cnn"]["loss_diff"] <= 1e-5, got["cnn"]
    assert got["resume"]["max_abs_diff"] <= PLAIN_ATOL and got["resume"]["loss_diff"] <= 1e-6, got["resume"]


# ------------------------------------------------------------------------------------------ multi-worker
def test_two_workers_train_siamese_to_equal_weights(tiny_demo, tmp_path):
    out = tmp_path / "siamese"
    started = time.monotonic()
    result = run_bounded([sys.executable, "-m", "fashionsim", "train", "siamese", "--catalog", str(tiny_demo),
                          "--out", str(out), "--workers", "2", "--timeout", "120", "--epochs", "1",
                          "--triplets-per-epoch", "28", "--image-size", "32", "--select-by", "none", "--json"])
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    hashes = [w["weights_sha256"] for w in summary["workers"]]
    assert len(hashes) == 2 and hashes[0] == hashes[1] and summary["equal_weights"] is True, summary["workers"]
    assert (out / "model.keras").is_file() and not (out / ".workers").exists()  # only the chief's output stays
    assert seconds < 60, seconds
    print(f"two-worker run: {seconds:.1f} s wall, workers {[w['seconds'] for w in summary['workers']]} s")


def test_a_failing_worker_stops_them_all_quickly(tiny_demo, tmp_path):
    """One worker cannot start (an unknown catalog): the launcher stops the other and says which failed."""
    from fashionsim.distribute import WorkerError, launch

    started = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker \d of 2 exited with status 2"):
        launch(["train", "siamese", "--catalog", str(tmp_path / "missing"), "--json"], 2, out=tmp_path / "o",
               timeout=60)
    assert time.monotonic() - started < 60


def test_launcher_timeout_kills_the_workers(tmp_path):
    """Workers that never finish are stopped at the time limit, and none survives it."""
    from fashionsim.distribute import WorkerError, launch

    stuck = tmp_path / "stuck-python"
    stuck.write_text(f"#!/bin/sh\necho $$ >> {tmp_path / 'pids'}\nexec sleep 600\n")
    stuck.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(WorkerError, match=r"did not finish within 2 s; all stopped \(still running: \[0, 1\]\)"):
        launch(["train", "siamese"], 2, out=tmp_path / "o", timeout=2, python=str(stuck))
    assert time.monotonic() - started < 15
    pids = [int(line) for line in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_module_launcher_needs_a_command(capsys, tmp_path):
    from fashionsim.distribute import main

    with pytest.raises(SystemExit) as exit_:
        main(["--workers", "2", "--out", str(tmp_path)])
    assert exit_.value.code == 2 and "give the fashionsim command line after --" in capsys.readouterr().err
    assert main(["--workers", "1", "--out", str(tmp_path), "--", "train", "siamese", "--json"]) == 2
    assert "n_workers must be >= 2" in capsys.readouterr().err


def test_worker_argv_round_trips():
    from fashionsim.cli import build_parser
    from fashionsim.commands.train import worker_argv

    line = ["train", "siamese", "--catalog", "demo", "--out", "x", "--epochs", "1", "--image-size", "32",
            "--select-by", "none", "--lr", "0.001", "--workers", "2", "--preset", "demo"]
    parser = build_parser()
    args = parser.parse_args(line)
    again = parser.parse_args(worker_argv(args) + ["--out", "x"])
    for key in ("model", "catalog", "epochs", "image_size", "select_by", "lr", "preset", "seed", "batch_size"):
        assert getattr(again, key) == getattr(args, key), key
    assert again.workers == 1 and again.json


# ------------------------------------------------------------------------------------------ the child
def _child_replicas(model: str, catalog: str) -> dict:  # pragma: no cover - runs in a subprocess
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np

    from fashionsim.data import read_catalog
    from fashionsim.repeatable import seed_training

    cat = read_catalog(catalog)
    strategies = {"one": tf.distribute.OneDeviceStrategy("/cpu:0"),
                  "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}
    report: dict = {"replicas": {k: s.num_replicas_in_sync for k, s in strategies.items()}}

    def flat(weights) -> np.ndarray:
        return np.concatenate([np.ravel(w) for w in weights]).astype(np.float64)

    def compare(a: dict, b: dict) -> dict:
        wa, wb, w0 = flat(a["weights"]), flat(b["weights"]), flat(a["initial"])
        moved = float(np.abs(wa - w0).max())
        return {"max_abs_diff": float(np.abs(wa - wb).max()), "moved": moved,
                "relative_diff": float(np.abs(wa - wb).max() / max(moved, 1e-12)),
                "loss_diff": float(abs(a["loss"] - b["loss"]))}

    if model == "siamese":
        from fashionsim.models.embedding import L2Normalize, build_embedding_model
        from fashionsim.training import train_siamese

        size = "image_size" if "image_size" in inspect.signature(train_siamese).parameters else "input_size"
        seen: dict[str, list[int]] = {}

        class BatchProbe(keras.layers.Layer):
            """Identity; records the batch size of every training call (per replica)."""

            def __init__(self, key: str, **kwargs):
                super().__init__(**kwargs)
                self.key = key

            def call(self, x, training=None):
                if training:
                    tf.py_function(lambda n: seen.setdefault(self.key, []).append(int(n)), [tf.shape(x)[0]], [])
                return x

        def plain(key: str):
            inputs = keras.Input((32, 32, 3))
            x = BatchProbe(key)(inputs)
            x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
            x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
            x = keras.layers.GlobalAveragePooling2D()(x)
            x = keras.layers.Dense(16)(x)
            return keras.Model(inputs, L2Normalize()(x))

        builders = {"plain": plain, "small_cnn": lambda key: build_embedding_model(backbone="small_cnn",
                                                                                   image_size=32)}
        for name, build in builders.items():
            runs = {}
            for key, strategy in strategies.items():
                seed_training(0)
                with strategy.scope():
                    net = build(key)
                initial = net.get_weights()
                run = train_siamese(cat, model=net, strategy=strategy, **{size: 32}, epochs=2,
                                    triplets_per_epoch=28, batch_triplets=14, eval_split=None, seed=0,
                                    progress=False, verbose=0)
                runs[key] = {"initial": initial, "weights": run.model.get_weights(), "loss": run.history["loss"][-1]}
            report[name] = compare(runs["one"], runs["mirrored"])
            report.setdefault("initial_weights_equal", True)
            report["initial_weights_equal"] &= bool(np.array_equal(flat(runs["one"]["initial"]),
                                                                   flat(runs["mirrored"]["initial"])))
        report["batch_seen"] = {k: sorted(set(v)) for k, v in seen.items()}
    else:
        from fashionsim.recommend.training import train_dvbpr

        runs = {}
        for key, strategy in {"default": None, **strategies}.items():
            run = train_dvbpr(cat, strategy=strategy, variant="cnn", image_size=16, epochs=1, batch_size=64, seed=0,
                              progress=False)
            runs[key] = {"weights": run.model.get_weights(), "loss": run.history["loss"][-1],
                         "vectors": run.item_vectors}
        # the initial weights: the same run with a learning rate of 0 (Adam then leaves every weight in place)
        runs["one"]["initial"] = train_dvbpr(cat, strategy=strategies["one"], variant="cnn", image_size=16, epochs=1,
                                             batch_size=64, seed=0, progress=False,
                                             learning_rate=0.0).model.get_weights()
        a, b = runs["one"], runs["mirrored"]
        report["cnn"] = dict(compare(a, b), vectors_max_abs_diff=float(np.abs(a["vectors"] - b["vectors"]).max()))
        report["default_vs_one"] = float(np.abs(flat(runs["default"]["weights"]) - flat(a["weights"])).max())
        # resume under the strategy (the checkpoint loaded in its scope): 1 epoch + 1 resumed = 2 straight epochs
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            two = {"variant": "cnn", "image_size": 16, "batch_size": 64, "seed": 0, "progress": False,
                   "triples_per_epoch": 128, "strategy": strategies["mirrored"]}
            straight = train_dvbpr(cat, epochs=2, **two)
            train_dvbpr(cat, epochs=1, out_dir=folder, **two)
            resumed = train_dvbpr(cat, epochs=2, out_dir=folder, resume=True, **two)
        report["resume"] = {"max_abs_diff": float(np.abs(flat(straight.model.get_weights())
                                                        - flat(resumed.model.get_weights())).max()),
                            "loss_diff": float(np.abs(np.subtract(straight.history["loss"],
                                                                  resumed.history["loss"])).max())}
        try:
            train_dvbpr(cat, strategy=strategies["mirrored"], variant="cnn", image_size=16, epochs=1, batch_size=63,
                        seed=0, progress=False)
            report["odd_batch_refused"] = False
        except ValueError as exc:
            report["odd_batch_refused"] = "replica" in str(exc)
    return report


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1] == "replicas":
        print(json.dumps(_child_replicas(sys.argv[2], sys.argv[3])))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
