"""Models the notebooks save, loaded back — or trained again when missing (notebook 05, the CLI).

Notebooks 01, 03 and 04 save their trained models under ``artifacts/``
(``multilabel/``, ``siamese/``, ``dvbpr/``). Notebook 05 and ``fashionsim
evaluate`` read them with these functions; when a folder is missing and
``retrain=True``, the same training function runs again with the demo
settings of the notebook that made it (:mod:`fashionsim.presets`: ``MULTILABEL_DEMO``,
``SIAMESE_DEMO``, ``DVBPR_DEMO``).

>>> siamese_model("no-such-folder", cat=None, retrain=False)
Traceback (most recent call last):
...
FileNotFoundError: no siamese model in no-such-folder: run its notebook first, or pass retrain=True
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim import presets


def _missing(folder: Path, what: str, retrain: bool) -> None:
    if not retrain:
        raise FileNotFoundError(f"no {what} model in {folder}: run its notebook first, or pass retrain=True")


def siamese_model(folder: str | os.PathLike, cat, *, retrain: bool = True, progress: bool = False):
    """The triplet-trained embedding model of notebook 03 (``folder/model.keras``)."""
    folder = Path(folder)
    path = folder / "model.keras"
    if path.is_file():
        from fashionsim.models.io import load_model

        return load_model(path)
    _missing(folder, "siamese", retrain)
    from fashionsim.training import save_model, train_siamese

    run = train_siamese(cat, out_dir=folder / "run", progress=progress, verbose=0,
                        **presets.SIAMESE_DEMO.train_kwargs())
    save_model(run.model, path)
    return run.model


def untrained_like(model, *, seed: int = 0):
    """The same architecture as ``model`` with fresh random weights (seeded)."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def multilabel_vector_model(folder: str | os.PathLike, cat, *, retrain: bool = True, progress: bool = False):
    """The pooled-feature model of notebook 01's multilabel classifier (``folder`` as train_multilabel wrote it)."""
    from fashionsim.multilabel import image_vector_model, load_multilabel, train_multilabel

    folder = Path(folder)
    if not (folder / "state.json").is_file():
        _missing(folder, "multilabel", retrain)
        train_multilabel(cat, folder, progress=progress, **presets.MULTILABEL_DEMO.train_kwargs())
    classifier, _, _ = load_multilabel(folder)
    return image_vector_model(classifier)


def dvbpr_model(folder: str | os.PathLike, cat, *, retrain: bool = True, progress: bool = False):
    """The visual recommender of notebook 04 (what ``train_dvbpr`` / ``save_dvbpr`` wrote to ``folder``)."""
    from fashionsim.recommend.training import load_dvbpr, save_dvbpr, train_dvbpr

    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        _missing(folder, "DVBPR", retrain)
        settings = presets.DVBPR_DEMO.train_kwargs()
        result = train_dvbpr(cat, progress=progress, **settings)
        save_dvbpr(result, folder, cat=cat, config=settings)
    return load_dvbpr(folder)


def dvbpr_test_report(loaded, cat) -> pd.DataFrame:
    """AUC over all items on every user's held-out test item: the visual model, popularity and random."""
    from fashionsim.metrics import auc
    from fashionsim.recommend import interactions_from_catalog, popularity_scores

    inter = interactions_from_catalog(cat)
    if not (np.array_equal(inter.user_ids.astype(str), loaded.user_ids.astype(str))
            and np.array_equal(inter.item_ids.astype(str), loaded.item_ids.astype(str))):
        raise ValueError("the DVBPR model was trained on another catalog (its users or items differ)")
    exclude = inter.seen("train", "val")
    rng = np.random.default_rng(0)
    candidates = {
        "DVBPR": loaded.scores(),
        "popularity": popularity_scores(inter.train, inter.n_users),
        "random": rng.random((inter.n_users, inter.n_items)),
    }
    return pd.DataFrame({"AUC": {name: auc(scores, inter.test, exclude) for name, scores in candidates.items()}})
