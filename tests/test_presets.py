"""fashionsim.presets: the demo settings equal the ones the notebooks, artifacts and the CLI used before, field by field."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from fashionsim import presets

KS = (1, 3, 5, 10, 25, 50, 100)


def _trainer(name: str):
    if name == "siamese":
        from fashionsim.training import train_siamese as f
    elif name == "multilabel":
        from fashionsim.multilabel import train_multilabel as f
    else:
        from fashionsim.recommend.training import train_dvbpr as f
    return f


def _call(name: str, kwargs: dict) -> dict:
    """What the trainer runs with: its defaults, overridden by ``kwargs`` (``input_size`` read as ``image_size``)."""
    def vocabulary(d: dict) -> dict:
        return {("image_size" if k == "input_size" else k): tuple(v) if isinstance(v, list) else v
                for k, v in d.items()}

    defaults = {k: p.default for k, p in inspect.signature(_trainer(name)).parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {**vocabulary(defaults), **vocabulary(kwargs)}


# The settings as they stood before presets.py, copied from notebooks/0[1-5]_*.py (their Config and
# training calls), fashionsim/artifacts.py (DEMO_*) and fashionsim/commands/train.py (argparse defaults).
OLD_DEMO_MULTILABEL = dict(backbone="mobilenet_v2", input_size=32, weights=None, epochs=14, batch_size=16,
                           learning_rate=1e-3, bn_momentum=0.9, sources=("shop",), seed=0)
OLD_DEMO_SIAMESE = dict(backbone="small_cnn", input_size=48, weights=None, epochs=30, triplets_per_epoch=504,
                        batch_triplets=14, margin=0.3, learning_rate=3e-4, learning_rate_decay="cosine", eval_every=3,
                        select_by="val_recall@10", seed=0)
OLD_DEMO_DVBPR = dict(variant="cnn", image_size=48, epochs=40, seed=0)
OLD_NB01_CALL = dict(backbone="mobilenet_v2", input_size=32, weights=None, bn_momentum=0.9, epochs=14, batch_size=16,
                     learning_rate=1e-3, top_k=10, n_nouns=25, n_adjectives=25, sources=("shop",), seed=0)
OLD_NB02_CALL = dict(triplets="metadata", input_size=48, epochs=20, triplets_per_epoch=504, batch_triplets=14,
                     learning_rate=5e-4, learning_rate_decay="cosine", eval_every=20, ks=(1, 5, 10), seed=0)
OLD_NB03_CALL = dict(input_size=48, epochs=30, triplets_per_epoch=504, batch_triplets=14, margin=0.3,
                     learning_rate=3e-4, learning_rate_decay="cosine", eval_every=3, ks=KS, select_by="val_recall@10",
                     seed=0)
OLD_NB04_CALLS = {"cnn": dict(variant="cnn", image_size=48, epochs=40, seed=0),
                  "autoencoder": dict(variant="autoencoder", image_size=48, epochs=30, ae_epochs=20, seed=0),
                  "pretrained": dict(variant="pretrained", image_size=75, backbone="inception_v3", weights=None,
                                     epochs=30, seed=0)}
OLD_CLI = {"siamese": dict(backbone="small_cnn", input_size=48, weights=None, batch_triplets=14, learning_rate=1e-4,
                           triplets_per_epoch=504, select_by="val_recall@10", triplets="mined", epochs=5, seed=0),
           "multilabel": dict(backbone="small_cnn", input_size=48, weights=None, batch_size=42, learning_rate=1e-3,
                              epochs=5, seed=0),
           "dvbpr": dict(variant="cnn", image_size=48, batch_size=42, learning_rate=1e-2, weights=None, epochs=5,
                         seed=0)}


@pytest.mark.parametrize("name, preset, old", [
    ("multilabel", presets.MULTILABEL_DEMO, OLD_DEMO_MULTILABEL),
    ("siamese", presets.SIAMESE_DEMO, OLD_DEMO_SIAMESE),
    ("dvbpr", presets.DVBPR_DEMO, OLD_DEMO_DVBPR),
    ("multilabel", presets.NOTEBOOK_01, OLD_NB01_CALL),
    ("siamese", presets.NOTEBOOK_02, OLD_NB02_CALL),
    ("siamese", presets.NOTEBOOK_03, OLD_NB03_CALL),
    ("siamese", presets.SIAMESE_QUICK, OLD_CLI["siamese"]),
    ("multilabel", presets.MULTILABEL_QUICK, OLD_CLI["multilabel"]),
    ("dvbpr", presets.DVBPR_QUICK, OLD_CLI["dvbpr"]),
])
def test_trainers_run_with_todays_settings(name, preset, old):
    """Every argument the trainer ends up with is the one it got before (passed, or its own default)."""
    kwargs = preset.train_kwargs()
    assert set(kwargs) <= set(inspect.signature(_trainer(name)).parameters), set(kwargs)
    got, want = _call(name, kwargs), _call(name, old)
    if name == "siamese" and preset in (presets.NOTEBOOK_02, presets.NOTEBOOK_03):
        # the notebooks pass a model they built with build_embedding_model(backbone, image_size, weights)
        assert (preset.backbone, preset.weights) == ("small_cnn", None)
        got.pop("backbone"), want.pop("backbone"), got.pop("weights"), want.pop("weights")
    assert got == want, {k: (got[k], want.get(k)) for k in got if got[k] != want.get(k)}


@pytest.mark.parametrize("variant", ["cnn", "autoencoder", "pretrained"])
def test_notebook04_variants(variant):
    assert presets.NOTEBOOK_04.dvbpr(variant).train_kwargs() == OLD_NB04_CALLS[variant]
    assert presets.NOTEBOOK_04.mf_kwargs() == {"epochs": 30, "seed": 0}


def test_notebook_fields_equal_the_old_config_cells():
    def fields(preset, *names):
        return {n: getattr(preset, n) for n in names}

    assert fields(presets.NOTEBOOK_01, "catalog_csv", "image_root", "out_dir") == dict(
        catalog_csv=None, image_root=None, out_dir="../artifacts/multilabel")
    assert fields(presets.NOTEBOOK_02, "catalog_dir", "n_triplets", "p_same_product", "p_in_class", "preview_size",
                  "image_size", "epochs", "triplets_per_epoch", "learning_rate") == dict(
        catalog_dir=None, n_triplets=20_000, p_same_product=0.9, p_in_class=0.3, preview_size=96, image_size=48,
        epochs=20, triplets_per_epoch=504, learning_rate=5e-4)
    assert fields(presets.NOTEBOOK_03, "catalog_dir", "backbone", "image_size", "weights", "ks", "n_trees",
                  "artifacts", "seed") == dict(catalog_dir=None, backbone="small_cnn", image_size=48, weights=None,
                                               ks=KS, n_trees=50, artifacts="../artifacts/siamese", seed=0)
    assert dataclasses.asdict(presets.NOTEBOOK_04) == dict(
        catalog_dir=None, image_size=48, cnn_epochs=40, ae_epochs=20, head_epochs=30, backbone="inception_v3",
        pretrained_size=75, weights=None, mf_epochs=30, artifacts=Path("../artifacts/dvbpr"), seed=0)
    assert dataclasses.asdict(presets.NOTEBOOK_05) == dict(
        catalog="demo", split="test", artifacts=Path("../artifacts"), ks=KS, far_bound=0.20,
        retrain_if_missing=True, seed=0)


def test_replace_is_a_copy_and_names_unknown_fields():
    gpu = presets.NOTEBOOK_03.replace(image_size=299, weights="imagenet", backbone="inception_v3")
    assert gpu.train_kwargs()["epochs"] == 30 and presets.NOTEBOOK_03.image_size == 48
    assert dataclasses.replace(presets.NOTEBOOK_03, image_size=299) == presets.NOTEBOOK_03.replace(image_size=299)
    with pytest.raises(TypeError, match="input_size"):
        presets.NOTEBOOK_03.replace(input_size=299)
    with pytest.raises(dataclasses.FrozenInstanceError):
        presets.NOTEBOOK_03.epochs = 1
    with pytest.raises(TypeError, match="several models"):
        presets.NOTEBOOK_04.train_kwargs()
    with pytest.raises(ValueError, match="variant"):
        presets.NOTEBOOK_04.dvbpr("vgg")


@pytest.mark.parametrize("change", [dict(image_size=0), dict(epochs=2.5), dict(seed=-1), dict(batch_triplets=True)])
def test_bad_values_name_the_field(change):
    (name,) = change
    with pytest.raises(ValueError, match=f"SiamesePreset.{name}"):
        presets.SiamesePreset(**change)


def test_importing_presets_imports_no_tensorflow():
    code = "import sys, fashionsim.presets as p; p.SIAMESE_DEMO.train_kwargs(); p.MULTILABEL_DEMO.train_kwargs(); " \
           "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ------------------------------------------------------------------------------------------ the CLI's settings
def _cli_settings(*line: str):
    from fashionsim.cli import build_parser
    from fashionsim.commands.train import settings

    return settings(build_parser().parse_args(["train", *line, "--out", "x"]))


@pytest.mark.parametrize("model", ["siamese", "multilabel", "dvbpr"])
def test_cli_defaults_are_the_quick_presets_and_run_as_before(model):
    chosen = _cli_settings(model)
    assert chosen == {"siamese": presets.SIAMESE_QUICK, "multilabel": presets.MULTILABEL_QUICK,
                      "dvbpr": presets.DVBPR_QUICK}[model]
    assert _call(model, chosen.train_kwargs()) == _call(model, OLD_CLI[model])
    assert _cli_settings(model, "--preset", "demo") == {"siamese": presets.SIAMESE_DEMO,
                                                        "multilabel": presets.MULTILABEL_DEMO,
                                                        "dvbpr": presets.DVBPR_DEMO}[model]


def test_cli_options_override_the_preset():
    chosen = _cli_settings("siamese", "--preset", "demo", "--epochs", "2", "--batch-size", "30", "--lr", "0.01",
                           "--image-size", "64", "--weights", "none", "--select-by", "none", "--seed", "3")
    assert chosen == presets.SIAMESE_DEMO.replace(epochs=2, batch_triplets=10, learning_rate=0.01, image_size=64,
                                                  select_by=None, seed=3)
    metadata = _cli_settings("siamese", "--triplets", "metadata")
    assert (metadata.triplets, metadata.select_by) == ("metadata", "val_color_precision@10")
    pretrained = _cli_settings("dvbpr", "--variant", "pretrained", "--backbone", "inception_v3")
    assert pretrained.train_kwargs() == dict(variant="pretrained", image_size=48, epochs=5, seed=0,
                                             backbone="inception_v3", weights=None, batch_size=42, learning_rate=1e-2)
    from fashionsim.commands._common import UsageError

    with pytest.raises(UsageError, match="ImageNet backbone"):
        _cli_settings("dvbpr", "--variant", "pretrained")


def test_cli_workers_refuse_what_they_cannot_do(capsys, tmp_path):
    from fashionsim.cli import main

    for extra, message in [(["dvbpr", "--workers", "2"], "`train siamese` only"), (["siamese", "--workers", "0"], ">= 1"),
                           (["siamese", "--workers", "2", "--resume"], "--resume with --workers")]:
        assert main(["train", *extra, "--out", str(tmp_path)]) == 2
        assert message in capsys.readouterr().err
