"""DVBPR on disk: ``model.keras``, the item embeddings with the item tower's fingerprint, and ``meta.json``."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from fashionsim._io import atomic_path, write_text_atomic
from fashionsim.harness import MODEL_FILE, to_json
from fashionsim.recommend.bpr_epochs import BPRResult
from fashionsim.recommend.interactions import Interactions
from fashionsim.recommend.scoring import FactorScores

__all__ = ["save_dvbpr", "load_dvbpr", "LoadedDVBPR"]


def save_dvbpr(result: BPRResult, out_dir: str | os.PathLike, *, cat=None, config: dict | None = None,
               recompute: bool = False) -> Path:
    """Write ``model.keras``, ``item_embeddings.npy`` (+ ``.json``, with the item tower's fingerprint), ``meta.json``.

    The item embeddings written are ``result.item_vectors`` — the ones training
    already computed with the returned model — so no picture is decoded again.
    With ``recompute=True`` (and ``cat``) they are recomputed from the item
    pictures streamed through ``images.dataset`` (``embed_images``) instead.
    ``cat`` also records each item's image id in ``meta.json``.
    """
    from fashionsim.embed import model_fingerprint, save_embeddings
    from fashionsim.recommend.items import item_image_ids, item_image_paths
    from fashionsim.recommend.scoring import item_vectors

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inter = result.interactions
    with atomic_path(out / MODEL_FILE) as path:
        result.model.save(path)
    tower = result.model.get_layer("item_tower")
    vectors = result.item_vectors
    if recompute:
        if cat is None:
            raise ValueError("recompute=True needs cat (where the item pictures are)")
        vectors = item_vectors(result.model, item_image_paths(cat, inter.item_ids), progress=False)
    fingerprint = model_fingerprint(tower)
    save_embeddings(out / "item_embeddings.npy", vectors, list(inter.item_ids), fingerprint=fingerprint)
    meta = {
        "variant": result.variant, "image_size": result.image_size, "best_epoch": result.best_epoch,
        "history": result.history, "train_seconds": result.train_seconds, "fingerprint": fingerprint,
        "user_ids": [to_json(u) for u in inter.user_ids], "item_ids": [to_json(i) for i in inter.item_ids],
        "item_image_ids": ([to_json(i) for i in item_image_ids(cat, inter.item_ids)] if cat is not None else None),
        "config": config,
    }
    write_text_atomic(out / "meta.json", json.dumps(to_json(meta), indent=1, allow_nan=False))
    return out


@dataclasses.dataclass
class LoadedDVBPR:
    """What :func:`load_dvbpr` returns: the model, the id maps, the item vectors and the training record."""

    model: object
    user_ids: np.ndarray
    item_ids: np.ndarray
    item_vectors: np.ndarray
    image_size: int
    meta: dict

    def scores(self) -> FactorScores:
        from fashionsim.recommend.scoring import user_vectors

        return FactorScores(user_vectors(self.model), self.item_vectors)

    def check_ids(self, inter: Interactions) -> LoadedDVBPR:
        """ValueError unless ``inter`` codes users and items exactly as the saved model does; returns self."""
        if list(self.user_ids) != [to_json(u) for u in inter.user_ids] or \
                list(self.item_ids) != [to_json(i) for i in inter.item_ids]:
            raise ValueError("the saved model was trained on other users or items than these interactions "
                             f"({len(self.user_ids)} users × {len(self.item_ids)} items saved, "
                             f"{inter.n_users} × {inter.n_items} given): retrain it on this catalog")
        return self


def load_dvbpr(out_dir: str | os.PathLike) -> LoadedDVBPR:
    """Load what :func:`train_dvbpr` wrote to ``out_dir``; refuses item embeddings made by another model."""
    from fashionsim.embed import load_embeddings, model_fingerprint

    out = Path(out_dir)
    for name in (MODEL_FILE, "meta.json", "item_embeddings.npy"):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} not found: train with train_dvbpr(..., out_dir={str(out)!r})")
    from fashionsim.models.io import load_model

    try:
        meta = json.loads((out / "meta.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{out / 'meta.json'} is not valid JSON (truncated?): {exc}; re-run training") from None
    model = load_model(out / MODEL_FILE)
    fingerprint = model_fingerprint(model.get_layer("item_tower"))
    if fingerprint != meta["fingerprint"]:
        raise ValueError(f"{out}: model.keras does not match meta.json (an interrupted write?): re-run training")
    vectors, ids, _ = load_embeddings(out / "item_embeddings.npy", fingerprint=fingerprint)
    return LoadedDVBPR(model, np.asarray(meta["user_ids"]), np.asarray(ids), vectors, int(meta["image_size"]), meta)
