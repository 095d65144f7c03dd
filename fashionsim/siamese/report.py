"""What the siamese trainer says about an epoch: its log line, and the collapse it detects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["CollapseWarning", "is_collapsed", "collapse_message", "epoch_line"]


class CollapseWarning(RuntimeWarning):
    """The embedding collapsed: all vectors (nearly) at one point, the triplet loss stuck at the margin."""


def is_collapsed(d_ap: float, d_an: float, spread: float, eps: float) -> bool:
    """Both training distances below ``eps``, or the embeddings' spread at inference below it.

    >>> is_collapsed(1e-5, 2e-5, 0.4, 1e-3), is_collapsed(0.1, 0.3, 0.4, 1e-3)
    (True, False)
    """
    return bool((d_ap < eps and d_an < eps) or spread < eps)


def collapse_message(entry: dict[str, Any], margin: float, eps: float) -> str:
    head = (f"the embedding collapsed at epoch {entry['epoch']}: mean d(a,p) {entry['d_ap']:.2e}, mean d(a,n) "
            f"{entry['d_an']:.2e} during training, spread {entry['spread']:.2e} at inference, loss "
            f"{entry['loss']:.3f} (margin {margin}). ")
    if entry["d_ap"] < eps and entry["d_an"] < eps:
        return head + ("Every image maps to nearly the same vector, so the loss sits at the margin and "
                       "gives no direction: lower the learning rate, check the data, prefer semi-hard to hardest "
                       "negatives.")
    return head + ("The training batches still separate, but in inference mode every image gets nearly the "
                   "same vector: the BatchNormalization moving statistics lag behind the weights (few steps, "
                   "from scratch). Train longer, lower the BatchNorm momentum, or start from pretrained weights.")


def epoch_line(entry: dict[str, Any], epochs: int, ks: Sequence[int]) -> str:
    """One line per epoch: loss, distances, active fraction, spread, and the validation figures when measured."""
    text = (f"epoch {entry['epoch']}/{epochs}: loss {entry['loss']:.3f}  d(a,p) {entry['d_ap']:.3f}  "
            f"d(a,n) {entry['d_an']:.3f}  active {entry['active_fraction']:.0%}  spread {entry['spread']:.3f}")
    shown = [k for k in ks if k in (1, 10)] or list(ks)[:2]
    if entry.get(f"val_recall@{shown[0]}") is not None:
        text += "  | val " + " ".join(f"R@{k} {entry[f'val_recall@{k}']:.2f}" for k in shown)
    if entry.get(f"val_color_precision@{shown[-1]}") is not None:
        text += "  | val " + " ".join(f"{label} P@{k} {entry[f'{prefix}{k}']:.2f}" for k in shown[-1:]
                                      for label, prefix in (("category", "val_category_precision@"),
                                                            ("category+colour", "val_color_precision@")))
    if entry["collapsed"]:
        text += "  COLLAPSED"
    return text + f"  ({entry['seconds']:.0f} s)"
