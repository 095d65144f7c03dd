"""The demo settings in one place: each notebook's ``Config``, the models ``artifacts`` retrains, the CLI's runs.

A preset is a frozen dataclass. The model presets hold the keyword arguments of one trainer
(:class:`SiamesePreset` for ``training.train_siamese``, :class:`MultilabelPreset` for
``multilabel.train_multilabel``, :class:`DVBPRPreset` for ``recommend.train_dvbpr``);
``train_kwargs()`` hands them over. A notebook's preset (``NOTEBOOK_01`` … ``NOTEBOOK_05``) is
its ``Config`` cell: the trainer's settings plus the notebook's own (catalog, artifacts folder).
The defaults are the demo: generated catalog, small images, random initial weights, CPU minutes.
Going to a GPU and a real dataset is one replace:

>>> from fashionsim import presets
>>> cfg = presets.NOTEBOOK_03
>>> cfg.image_size, cfg.epochs, cfg.select_by
(48, 30, 'val_recall@10')
>>> gpu = cfg.replace(backbone="inception_v3", image_size=299, weights="imagenet")
>>> gpu.image_size, cfg.image_size                 # presets are frozen: cfg is unchanged
(299, 48)
>>> kwargs = presets.SIAMESE_DEMO.train_kwargs()   # train_siamese(cat, **kwargs) trains notebook 03's model
>>> kwargs["epochs"], kwargs["batch_triplets"], kwargs["learning_rate_decay"]
(30, 14, 'cosine')
>>> presets.NOTEBOOK_04.dvbpr("cnn").train_kwargs()
{'variant': 'cnn', 'image_size': 48, 'epochs': 40, 'seed': 0}

Importing this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "Preset", "SiamesePreset", "MultilabelPreset", "DVBPRPreset",
    "Notebook01", "Notebook02", "Notebook03", "Notebook04", "Notebook05",
    "NOTEBOOK_01", "NOTEBOOK_02", "NOTEBOOK_03", "NOTEBOOK_04", "NOTEBOOK_05",
    "SIAMESE_DEMO", "MULTILABEL_DEMO", "DVBPR_DEMO", "SIAMESE_QUICK", "MULTILABEL_QUICK", "DVBPR_QUICK",
    "DEFAULT_KS",
]

#: recall@K of the street-to-shop reference
DEFAULT_KS = (1, 3, 5, 10, 25, 50, 100)
#: fields that must be positive ints wherever a preset has them
_POSITIVE = ("image_size", "epochs", "triplets_per_epoch", "batch_triplets", "batch_size", "eval_every",
             "preview_size", "n_triplets", "cnn_epochs", "ae_epochs", "head_epochs", "pretrained_size", "mf_epochs",
             "top_k", "n_nouns", "n_adjectives", "n_trees")


@dataclasses.dataclass(frozen=True)
class Preset:
    """Base of every preset: ``replace(**changes)`` and the field checks."""

    #: the fields ``train_kwargs`` passes on (set by each model preset); the notebook's own fields are not
    _trainer_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in _POSITIVE:
            value = getattr(self, name, None)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{type(self).__name__}.{name} must be a positive int, got {value!r}")
        seed = getattr(self, "seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{type(self).__name__}.seed must be a non-negative int, got {seed!r}")

    def replace(self, **changes: Any) -> Preset:
        """A copy with ``changes`` applied (``dataclasses.replace``), naming any unknown field."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {unknown}; its fields: {sorted(known)}")
        return dataclasses.replace(self, **changes)

    def train_kwargs(self) -> dict[str, Any]:
        """The trainer's keyword arguments: ``trainer(cat, **preset.train_kwargs())``."""
        if not self._trainer_fields:
            raise TypeError(f"{type(self).__name__} holds the settings of several models: see its methods")
        return {name: getattr(self, name) for name in self._trainer_fields}


# ------------------------------------------------------------------------------------------ model presets
@dataclasses.dataclass(frozen=True)
class SiamesePreset(Preset):
    """``train_siamese``'s settings; the defaults are notebook 03's demo (method 3, mined semi-hard triplets)."""

    _trainer_fields: ClassVar[tuple[str, ...]] = (
        "backbone", "image_size", "weights", "epochs", "triplets_per_epoch", "batch_triplets", "margin",
        "learning_rate", "learning_rate_decay", "eval_every", "select_by", "ks", "triplets", "p_same_product",
        "p_in_class", "seed")

    backbone: str = "small_cnn"          # reference: "inception_v3"
    image_size: int = 48                 # reference: 299
    weights: str | None = None           # reference: "imagenet" (None = random initialisation)
    epochs: int = 30                     # reference: 3,600
    triplets_per_epoch: int = 504        # reference: 700
    batch_triplets: int = 14             # 42 images per batch, as the reference
    margin: float = 0.3
    learning_rate: float = 3e-4          # reference: 1e-4 (Adam)
    learning_rate_decay: str | None = "cosine"  # down to 0 at the last step; reference: None (constant)
    eval_every: int = 3                  # reference: 100
    select_by: str | None = "val_recall@10"  # keep the epoch that does best on the validation split
    ks: tuple[int, ...] = DEFAULT_KS
    triplets: str = "mined"              # "mined" (street/shop pairs) or "metadata" (method 2, notebook 02)
    p_same_product: float = 0.9          # metadata triplets: positive = another photo of the product
    p_in_class: float = 0.3              # metadata triplets: negative of the same category
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class MultilabelPreset(Preset):
    """``train_multilabel``'s settings; the defaults are notebook 01's demo."""

    _trainer_fields: ClassVar[tuple[str, ...]] = (
        "backbone", "image_size", "weights", "bn_momentum", "epochs", "batch_size", "learning_rate", "sources",
        "top_k", "n_nouns", "n_adjectives", "seed")

    backbone: str = "mobilenet_v2"       # real use: "inception_v3", "resnet50", "efficientnet_b0"
    image_size: int = 32                 # real use: 299 for inception_v3, 224 for the others
    weights: str | None = None           # real use: "imagenet" (Keras downloads it; needs a network)
    bn_momentum: float | None = 0.9      # from scratch, few steps; with ImageNet weights: None
    epochs: int = 14                     # the reference trained 30 epochs on a GPU
    batch_size: int = 16                 # real use: 32
    learning_rate: float = 1e-3          # Adam, as in the reference
    sources: tuple[str, ...] | None = ("shop",)  # studio photos, as in the article's data (None: all)
    top_k: int = 10                      # top tags per item
    n_nouns: int = 25                    # classes: the most common nouns ...
    n_adjectives: int = 25               # ... and adjectives
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class DVBPRPreset(Preset):
    """``train_dvbpr``'s settings; a None field is left to the trainer's default, ``weights`` is for "pretrained"."""

    variant: str = "cnn"                 # "cnn", "autoencoder" or "pretrained"
    image_size: int = 48
    epochs: int = 40
    seed: int = 0
    ae_epochs: int | None = None         # autoencoder pre-training epochs ("autoencoder")
    backbone: str | None = None          # frozen ImageNet backbone ("pretrained")
    weights: str | None = None           # the backbone's weights ("pretrained"; None = random)
    batch_size: int | None = None
    learning_rate: float | None = None

    def train_kwargs(self) -> dict[str, Any]:
        """``train_dvbpr(cat, **preset.train_kwargs())``: the set fields, ``weights`` for the pretrained variant."""
        always = ("variant", "image_size", "epochs", "seed") + (("weights",) if self.variant == "pretrained" else ())
        kwargs = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {name: value for name, value in kwargs.items() if name in always or value is not None}


# ------------------------------------------------------------------------------------------ notebooks
@dataclasses.dataclass(frozen=True)
class Notebook01(MultilabelPreset):
    """Notebook 01 (tags → multilabel classifier): :class:`MultilabelPreset` plus its catalog and output."""

    catalog_csv: str | None = None       # None: the generated demo catalog; else a CSV in the article's columns
    image_root: str | None = None        # folder the CSV's image paths are relative to
    out_dir: str = "../artifacts/multilabel"  # model + vocabulary, reused by notebooks 03 and 05


@dataclasses.dataclass(frozen=True)
class Notebook02(SiamesePreset):
    """Notebook 02 (metadata triplets): the sampler's settings, and method 2's training (metadata triplets)."""

    catalog_dir: str | None = None       # None: the generated demo catalog; else a catalog folder
    n_triplets: int = 20_000             # the article drew 800,000 from about 700,000 images
    preview_size: int = 96               # image side of the training-input preview
    triplets: str = "metadata"
    epochs: int = 20                     # epochs of triplets_per_epoch fresh triplets each
    learning_rate: float = 5e-4          # Adam, cosine decay to 0 over the run
    eval_every: int = 20                 # evaluated once, at the end
    select_by: str | None = None         # keep the last epoch
    ks: tuple[int, ...] = (1, 5, 10)


@dataclasses.dataclass(frozen=True)
class Notebook03(SiamesePreset):
    """Notebook 03 (siamese, semi-hard mining): :class:`SiamesePreset`'s demo plus its catalog and index."""

    catalog_dir: str | None = None       # None: the generated demo catalog; else a catalog folder
    n_trees: int = 50                    # Annoy trees, as the reference
    artifacts: str = "../artifacts/siamese"


@dataclasses.dataclass(frozen=True)
class Notebook04(Preset):
    """Notebook 04 (BPR-MF and DVBPR): one preset per trained model through :meth:`dvbpr` and :meth:`mf_kwargs`."""

    catalog_dir: str | None = None       # None: the generated demo catalog; else a catalog folder
    image_size: int = 48                 # item pictures for the CNN and the autoencoder
    cnn_epochs: int = 40                 # BPR epochs, CNN trained end to end
    ae_epochs: int = 20                  # autoencoder pre-training (reconstruction) epochs
    head_epochs: int = 30                # BPR epochs for the frozen-encoder variants
    backbone: str = "inception_v3"
    pretrained_size: int = 75            # InceptionV3 needs at least 75 px
    weights: str | None = None           # "imagenet" with a network; None = random weights (offline)
    mf_epochs: int = 30
    artifacts: Path = Path("../artifacts/dvbpr")  # notebook 05 and `fashionsim recommend` read it
    seed: int = 0

    def dvbpr(self, variant: str) -> DVBPRPreset:
        """The settings of one DVBPR variant: ``"cnn"``, ``"autoencoder"`` or ``"pretrained"``."""
        if variant == "cnn":
            return DVBPRPreset(variant=variant, image_size=self.image_size, epochs=self.cnn_epochs, seed=self.seed)
        if variant == "autoencoder":
            return DVBPRPreset(variant=variant, image_size=self.image_size, epochs=self.head_epochs, seed=self.seed,
                               ae_epochs=self.ae_epochs)
        if variant == "pretrained":
            return DVBPRPreset(variant=variant, image_size=self.pretrained_size, epochs=self.head_epochs,
                               seed=self.seed, backbone=self.backbone, weights=self.weights)
        raise ValueError(f"variant must be 'cnn', 'autoencoder' or 'pretrained', got {variant!r}")

    def mf_kwargs(self) -> dict[str, Any]:
        """``recommend.train_bpr_mf(inter, **cfg.mf_kwargs())``."""
        return {"epochs": self.mf_epochs, "seed": self.seed}


@dataclasses.dataclass(frozen=True)
class Notebook05(Preset):
    """Notebook 05 (evaluation): which catalog and split, where the saved models are, the bounds it checks."""

    catalog: str = "demo"                # "demo" or a catalog folder (products.csv, images.csv, ...)
    split: str = "test"                  # products none of the models trained on
    artifacts: Path = Path("../artifacts")  # where notebooks 01, 03 and 04 saved their models
    ks: tuple[int, ...] = DEFAULT_KS
    far_bound: float = 0.20              # the README's bound on the false accept rate
    retrain_if_missing: bool = True      # train quickly with the notebooks' functions if a model is absent
    seed: int = 0


NOTEBOOK_01 = Notebook01()
NOTEBOOK_02 = Notebook02()
NOTEBOOK_03 = Notebook03()
NOTEBOOK_04 = Notebook04()
NOTEBOOK_05 = Notebook05()

# ------------------------------------------------------------------------------------------ artifacts and CLI
#: the models notebooks 01, 03 and 04 save, as ``fashionsim.artifacts`` retrains them when missing
MULTILABEL_DEMO = MultilabelPreset()
SIAMESE_DEMO = SiamesePreset()
DVBPR_DEMO = NOTEBOOK_04.dvbpr("cnn")
#: ``fashionsim train``'s default runs (``--preset quick``): a few minutes, to try a catalog
SIAMESE_QUICK = SiamesePreset(epochs=5, learning_rate=1e-4, learning_rate_decay=None, eval_every=1)
MULTILABEL_QUICK = MultilabelPreset(backbone="small_cnn", image_size=48, bn_momentum=None, epochs=5, batch_size=42,
                                    sources=None)
DVBPR_QUICK = DVBPRPreset(epochs=5, batch_size=42, learning_rate=1e-2)
