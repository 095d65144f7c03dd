"""Charts of numbers: training curves, recall@K, VAL and FAR against the threshold, tag frequencies.

Every function takes ``ax=None`` (a new figure is made when missing), returns the Axes and never
calls ``plt.show()``.

>>> import matplotlib.pyplot as plt
>>> ax = history_curves({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6]}, references={"chance": 0.8})
>>> [line.get_label() for line in ax.lines]
['loss', 'val_loss', 'chance (0.800)']
>>> report = {"retrieval": {"recall": {1: 0.2, 10: 0.6}, "chance": {1: 0.01, 10: 0.1}}}
>>> ax = recall_curves({"trained": report})
>>> ax.get_xlabel(), ax.get_ylabel(), [line.get_label() for line in ax.lines]
('K', 'recall@K', ['trained', 'chance'])
>>> table = pd.DataFrame({"tag": ["dress", "red"], "pos": ["noun", "adjective"], "n_items": [12, 5]})
>>> [t.get_text() for t in tag_frequencies(table).get_yticklabels()]
['red', 'dress']
>>> plt.close("all")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.metrics.verification import val_far as _val_far

__all__ = ["history_curves", "recall_curves", "tag_frequencies", "val_far"]


def history_curves(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None, *,
                   xlabel: str = "epoch", ylabel: str | None = None,
                   references: Mapping[str, float] | None = None, ax=None, title: str | None = None):
    """Plot training curves (``{"loss": [...], "val_auc": [...]}``) against the epoch number.

    ``references`` adds a dashed horizontal line per entry (``{"popularity": 0.65}``): a baseline
    that does not train, so it has one value for every epoch.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for key in keys or list(history):
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=key)
    for n, (name, value) in enumerate((references or {}).items()):
        ax.axhline(float(value), color=("0.3", "0.6")[n % 2], ls="--", lw=1.2, label=f"{name} ({float(value):.3f})")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------- evaluation reports (notebook 05)
def recall_curves(reports: Mapping[str, Mapping[str, Any]], *, ax=None, chance: bool = True):
    """recall@K against K (log scale) for every representation, with the chance level."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, r in reports.items():
        recall = r["retrieval"]["recall"]
        ax.plot(list(recall), list(recall.values()), marker="o", label=name)
    if chance and reports:
        first = next(iter(reports.values()))["retrieval"]["chance"]
        ax.plot(list(first), list(first.values()), ls="--", color="grey", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("K")
    ax.set_ylabel("recall@K")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def val_far(report: Mapping[str, Any], *, ax=None, n_thresholds: int = 200):
    """VAL and FAR of street–shop pairs against the distance threshold, the chosen threshold marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    d, same = report["pairs"]["distances"], report["pairs"]["same"]
    grid = np.linspace(0, float(d.max()), n_thresholds)
    val, far = _val_far(d, same, grid)
    best = report["verification"]
    ax.plot(grid, val, label="VAL (same product accepted)")
    ax.plot(grid, far, label="FAR (other product accepted)")
    ax.axhline(best["far_bound"], color="grey", lw=0.8, ls=":")
    ax.axvline(best["threshold"], color="black", ls="--",
               label=f"threshold {best['threshold']:.2f}: VAL {best['val']:.2f}, FAR {best['far']:.2f}")
    ax.set_xlabel("distance threshold")
    ax.set_ylabel("fraction of pairs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# ------------------------------------------------------------------- tags (notebook 01)
def tag_frequencies(frequencies: pd.DataFrame, *, ax=None, title: str | None = None):
    """Horizontal bars of ``TagExtractor.frequencies_`` (tag, pos, n_items): nouns and adjectives in two colours.

    Returns the Axes; never calls ``plt.show()``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    missing = {"tag", "pos", "n_items"} - set(frequencies.columns)
    if missing:
        raise ValueError(f"frequencies needs columns tag, pos, n_items; missing {sorted(missing)}")
    table = frequencies.sort_values(["n_items", "tag"], ascending=[True, False])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.16 * len(table) + 1))
    colours = np.where(table["pos"].to_numpy() == "noun", "tab:blue", "tab:orange")
    ax.barh(np.arange(len(table)), table["n_items"].to_numpy(), color=colours)
    ax.set_yticks(np.arange(len(table)), table["tag"].tolist(), fontsize=7)
    ax.set_xlabel("items with the tag among their top words")
    ax.legend(handles=[Patch(color="tab:blue", label="noun"), Patch(color="tab:orange", label="adjective")],
              fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    return ax
