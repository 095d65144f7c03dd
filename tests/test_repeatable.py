"""Repeatable training (fashionsim.repeatable): same seed, same weights, idle or busy, fresh or resumed.

Every trainer runs twice at tiny sizes in a fresh interpreter, the second time with two CPU-burning
processes alongside, and the trained weights must agree byte for byte. Resuming a run interrupted
after its first epoch must end with the weights and history of the run that never stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fashionsim import data
from fashionsim.repeatable import epoch_seed

pytestmark = pytest.mark.slow

TRAIN_ALL = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    from fashionsim import data, multilabel, training
    from fashionsim.recommend import interactions_from_catalog, train_bpr_mf, train_dvbpr

    cat = data.read_catalog(sys.argv[1])
    out = sys.argv[2]

    def digest(weights):
        return hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in weights)).hexdigest()

    small = dict(image_size=16, widths=(4, 8), latent_dim=4, batch_size=8, progress=False, seed=3)
    runs = {
        "siamese": training.train_siamese(cat, backbone="small_cnn", image_size=32, epochs=2, triplets_per_epoch=12,
                                          batch_triplets=3, ks=(1, 2), progress=False, verbose=0,
                                          seed=3).model,
        "multilabel": multilabel.train_multilabel(cat, out + "/ml", backbone="mobilenet_v2", image_size=32,
                                                  weights=None, epochs=2, batch_size=6, validation=False,
                                                  progress=False, seed=3).model,
        "dvbpr_cnn": train_dvbpr(cat, variant="cnn", epochs=2, **small).model,
        "dvbpr_autoencoder": train_dvbpr(cat, variant="autoencoder", epochs=2, ae_epochs=2, code_dim=8,
                                         **small).model,
        "dvbpr_pretrained": train_dvbpr(cat, variant="pretrained", backbone="mobilenet_v2", epochs=2,
                                        **{**small, "image_size": 32}).model,
        "bpr_mf": train_bpr_mf(interactions_from_catalog(cat), latent_dim=4, epochs=2, batch_size=8,
                               progress=False, seed=3).model,
    }
    print(json.dumps({name: digest(model.get_weights()) for name, model in runs.items()}))
""")


def _train_all(folder, out, env) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", TRAIN_ALL, str(folder), str(out)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_same_seed_same_weights_idle_and_busy(tiny_catalog, tmp_path):
    folder = data.write_catalog(tiny_catalog, tiny_catalog.root)  # the CSVs beside the images
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": "-1"}
    idle = _train_all(folder, tmp_path / "idle", env)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = _train_all(folder, tmp_path / "busy", env)
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    assert set(idle) == {"siamese", "multilabel", "dvbpr_cnn", "dvbpr_autoencoder", "dvbpr_pretrained", "bpr_mf"}
    assert busy == idle, {k: (idle[k][:12], busy[k][:12]) for k in idle if busy.get(k) != idle[k]}


def _digest(model) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())).hexdigest()


@pytest.mark.parametrize("decay", [None, "cosine"])
def test_siamese_resume_equals_an_uninterrupted_run(tiny_catalog, tmp_path, decay):
    from fashionsim import training

    options = dict(backbone="small_cnn", image_size=32, triplets_per_epoch=12, batch_triplets=3, ks=(1, 2),
                   eval_every=1, select_by="val_recall@2", min_selection_queries=1, progress=False, verbose=0,
                   seed=5, learning_rate_decay=decay)
    straight = training.train_siamese(tiny_catalog, epochs=3, out_dir=tmp_path / "straight", **options)
    if decay:  # a schedule over 3 epochs: interrupt by killing the run after its first checkpoint
        _train_then_kill(tiny_catalog, tmp_path / "resumed", options)
    else:
        training.train_siamese(tiny_catalog, epochs=1, out_dir=tmp_path / "resumed", **options)
    resumed = training.train_siamese(tiny_catalog, epochs=3, out_dir=tmp_path / "resumed", resume=True, **options)
    assert _digest(resumed.model) == _digest(straight.model)
    for key in ("loss", "d_ap", "d_an", "val_recall@2", "mined_d_an"):
        assert resumed.history[key] == straight.history[key], key
    assert resumed.best_epoch == straight.best_epoch


def _train_then_kill(cat, out_dir, options) -> None:
    """Start a 3-epoch run in another process and kill -9 it once its first checkpoint is on disk."""
    import time

    folder = data.write_catalog(cat, cat.root)
    script = textwrap.dedent(f"""
        from fashionsim import data, training
        cat = data.read_catalog({str(folder)!r})
        training.train_siamese(cat, epochs=3, out_dir={str(out_dir)!r}, **{options!r})
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": "-1"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = out_dir / "checkpoint" / "state.json"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if state.is_file() and json.loads(state.read_text())["epoch"] >= 1:
                break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert json.loads(state.read_text())["epoch"] in (1, 2), "the run ended before it could be interrupted"


def test_multilabel_resume_equals_an_uninterrupted_run(tiny_catalog, tmp_path):
    from fashionsim import multilabel

    options = dict(backbone="mobilenet_v2", image_size=32, weights=None, batch_size=6, validation=False,
                   progress=False, seed=5)
    straight = multilabel.train_multilabel(tiny_catalog, tmp_path / "straight", epochs=2, **options)
    multilabel.train_multilabel(tiny_catalog, tmp_path / "resumed", epochs=1, **options)
    resumed = multilabel.train_multilabel(tiny_catalog, tmp_path / "resumed", epochs=2, resume=True, **options)
    assert _digest(resumed.model) == _digest(straight.model)
    assert resumed.history["loss"] == straight.history["loss"]


@pytest.mark.parametrize("variant", ["cnn", "autoencoder"])
def test_dvbpr_resume_equals_an_uninterrupted_run(tiny_catalog, tmp_path, variant):
    from fashionsim.recommend import train_dvbpr

    options = dict(variant=variant, image_size=16, widths=(4, 8), latent_dim=4, batch_size=8, ae_epochs=1,
                   code_dim=8, progress=False, seed=5)
    straight = train_dvbpr(tiny_catalog, epochs=3, out_dir=tmp_path / "straight", **options)
    train_dvbpr(tiny_catalog, epochs=1, out_dir=tmp_path / "resumed", **options)
    resumed = train_dvbpr(tiny_catalog, epochs=3, out_dir=tmp_path / "resumed", resume=True, **options)
    assert _digest(resumed.model) == _digest(straight.model)
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.history["val_auc"] == straight.history["val_auc"]


def test_epoch_seed_depends_on_seed_and_epoch_only():
    assert epoch_seed(0, 1) == epoch_seed(0, 1)
    assert len({epoch_seed(s, e) for s in range(5) for e in range(5)}) == 25
    assert epoch_seed(0, 1, stream=1) != epoch_seed(0, 1)
    assert all(0 <= epoch_seed(s, 7) < 2**31 - 1 for s in range(5))
