"""One epoch of siamese training, as the harness runs it: train on this epoch's triplets, then re-mine.

The per-epoch hook is the mining round: before the first epoch and after every epoch, the
current model embeds freshly drawn pairs (or metadata triplets) and picks their semi-hard
negatives, so the next epoch trains on what the model now finds hard, and the history
records the state of the embedding after each epoch.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim.harness import MODEL_FILE, BestEpoch, EpochTask, fit_epoch
from fashionsim.siamese.mine import MinedTriplets, mine_triplets
from fashionsim.siamese.model_io import BEST_FILE, save_weights
from fashionsim.siamese.report import CollapseWarning, collapse_message, epoch_line, is_collapsed

__all__ = ["SiameseEpochs", "epoch_seeds"]

#: The trainer's log (``fashionsim.training``, where it has always been).
logger = logging.getLogger("fashionsim.training")


def epoch_seeds(seed: int, epoch: int) -> tuple[int, int]:
    """(mining seed, augmentation seed) of one epoch: the same for a resumed run as for an uninterrupted one."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(2)
    return int(state[0]), int(state[1] % (2**31 - 1))


class SiameseEpochs(EpochTask):
    """Epochs of :func:`~fashionsim.training.train_siamese` (``settings``: its checked arguments)."""

    logger = logger

    def __init__(self, model, train_cat, eval_cat, *, sampler, settings: dict[str, Any], eval_keys: list[str],
                 strategy=None):
        self.model = self.seed_model = model
        self.strategy = strategy
        self.train_cat, self.eval_cat, self.sampler = train_cat, eval_cat, sampler
        self.s = settings
        self.eval_keys = eval_keys
        self.evaluates = settings["eval_split"] is not None
        self.margins: list[np.ndarray] = []
        self.mined: MinedTriplets | None = None

    def mine(self, epoch: int) -> MinedTriplets:
        s, seed = self.s, epoch_seeds(self.s["seed"], epoch)[0]
        if self.sampler is not None:
            from fashionsim.deep_ranking import mine_metadata_triplets

            mined = mine_metadata_triplets(self.model, self.train_cat, self.sampler, s["triplets_per_epoch"],
                                           image_size=s["image_size"], seed=seed, batch_size=s["embed_batch_size"])
        else:
            mined = mine_triplets(self.model, self.train_cat, s["triplets_per_epoch"], image_size=s["image_size"],
                                  seed=seed, batch_size=s["embed_batch_size"], progress=False)
        self.margins.append(mined.triplets["margin"].to_numpy())
        return mined

    def begin(self, epoch: int) -> None:
        self.mined = self.mine(epoch)

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        from fashionsim.triplet_data import triplet_dataset

        s, batch = self.s, self.s["batch_triplets"]
        n_used = (len(self.mined.triplets) // batch) * batch
        ds = triplet_dataset(self.train_cat, self.mined.triplets.iloc[:n_used], s["image_size"], batch,
                             seed=epoch_seeds(s["seed"], epoch)[1], drop_remainder=True)
        logs = fit_epoch(self.model, ds, epoch, strategy=self.strategy, verbose=2 if s["verbose"] >= 2 else 0)
        self.mined = self.mine(epoch + 1)   # the next epoch's triplets, and the state of the embedding after this one
        entry: dict[str, Any] = {
            "epoch": epoch + 1, "loss": logs["loss"], "d_ap": logs["d_ap"], "d_an": logs["d_an"],
            "active_fraction": logs["active_fraction"], "n_triplets": n_used, **self.mined.summary(s["margin"]),
        }
        entry["collapsed"] = is_collapsed(entry["d_ap"], entry["d_an"], entry["spread"], s["collapse_eps"])
        if self.sampler is not None:
            entry["fallbacks"] = int(sum(self.mined.triplets.attrs.get("fallbacks", {}).values()))
        return entry

    def evaluate(self, epoch: int) -> dict[str, Any]:
        s, ks = self.s, self.s["ks"]
        out: dict[str, Any] = dict.fromkeys(self.eval_keys)
        if self.sampler is not None:
            from fashionsim.deep_ranking import evaluate_metadata

            result = evaluate_metadata(self.model, self.eval_cat, s["eval_split"], image_size=s["image_size"], ks=ks,
                                       batch_size=s["embed_batch_size"])
            for k in ks:
                out[f"val_category_precision@{k}"] = result["category"][k]
                out[f"val_color_precision@{k}"] = result["category_color"][k]
            return out
        from fashionsim.siamese.evaluate import evaluate_retrieval

        result = evaluate_retrieval(self.model, self.eval_cat, s["eval_split"], image_size=s["image_size"], ks=ks,
                                    batch_size=s["embed_batch_size"])
        for k in ks:
            out[f"val_recall@{k}"] = result["full"]["recall"][k]
            if result["clean"] is not None:
                out[f"val_clean_recall@{k}"] = result["clean"]["recall"][k]
        return out

    def describe(self, entry: dict[str, Any], epoch: int, epochs: int) -> str:
        return epoch_line(entry, epochs, self.s["ks"])

    def end_epoch(self, entry: dict[str, Any]) -> bool:
        if entry["collapsed"]:
            warnings.warn(collapse_message(entry, self.s["margin"], self.s["collapse_eps"]), CollapseWarning,
                          stacklevel=5)
        return bool(self.s["stop_on_collapse"] and entry["collapsed"])

    def snapshot(self) -> list:
        return self.model.get_weights()

    def restore(self, weights: list) -> None:
        self.model.set_weights(weights)

    def write_checkpoint(self, folder: Path, previous: Path | None, best: BestEpoch, improved: bool) -> list[str]:
        self.model.save(folder / MODEL_FILE)
        if best.weights is None:
            return [MODEL_FILE]
        save_weights(self.model, best.weights, folder / BEST_FILE)
        return [MODEL_FILE, BEST_FILE]
