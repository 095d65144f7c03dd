"""Solutions to the exercises of notebook 01 (tags and the multilabel classifier). Try them yourself first.

Each function is one exercise; ``tests/test_exercises.py`` runs them at small sizes and checks the
expected outcome the notebook states.
"""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import numpy as np
import pandas as pd

GOLD_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"


def decoding_comparison(y_val, p_val, y_test, p_test, classes, *, top_k: int = 3) -> pd.DataFrame:
    """Exercise 1: micro F1 and tags per photo of three decodings of the sigmoid outputs ``p_test``.

    The threshold is tuned on the validation pair (``y_val``, ``p_val``), never on the test labels.
    """
    from fashionsim.metrics import best_f1_threshold, multilabel_f1
    from fashionsim.tags import decode_tags

    y_test, p_test = np.asarray(y_test), np.asarray(p_test)
    tuned, _ = best_f1_threshold(y_val, p_val)
    top = np.zeros_like(y_test)
    index = {c: k for k, c in enumerate(classes)}
    for row, names in enumerate(decode_tags(p_test, classes, top_k=top_k)):
        top[row, [index[n] for n in names]] = 1
    decisions = {"threshold 0.50": p_test >= 0.5, f"tuned threshold {tuned:.2f}": p_test >= tuned,
                 f"top {top_k} per photo": top.astype(bool)}
    return pd.DataFrame({name: {"micro F1": multilabel_f1(y_test, d.astype(float), threshold=0.5)["micro"],
                                "tags per photo": d.sum(1).mean()} for name, d in decisions.items()}).T


def load_gold(folder: Path = GOLD_DIR) -> list[dict]:
    """The hand-labelled gold set: one dict per text with its kind, nouns, adjectives and brands."""
    rows = []
    for path in sorted(folder.glob("tags_gold_*.tsv")):
        with path.open(encoding="utf-8") as handle:
            lines = [line for line in handle if not line.startswith("#")]
        for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append({"kind": row["kind"], "text": row["text"], "nouns": (row["nouns"] or "").split(),
                         "adjectives": (row["adjectives"] or "").split(),
                         # brands; other proper nouns (model names, places) are marked with a leading ~
                         "brands": [n for n in (row["names"] or "").split() if not n.startswith("~")]})
    return rows


def plain_vs_pipeline(rows: list[dict] | None = None, tagger="auto") -> pd.DataFrame:
    """Exercise 2: share of gold labels right (right / labels in either) and titles with a brand word returned."""
    from fashionsim import tags

    rows = load_gold() if rows is None else rows
    texts = [r["text"] for r in rows]
    result = {}
    for name, plain in (("plain NN*/JJ*", True), ("pipeline", False)):
        predicted = tags.nouns_and_adjectives(texts, tagger=tagger, plain=plain)
        right = union = branded = titles = 0
        for row, nouns, adjectives in zip(rows, predicted["nouns"], predicted["adjectives"]):
            gold = collections.Counter([(w, "noun") for w in row["nouns"]] + [(w, "adj") for w in row["adjectives"]])
            got = collections.Counter([(w, "noun") for w in nouns] + [(w, "adj") for w in adjectives])
            right += sum((gold & got).values())
            union += sum((gold | got).values())
            if row["kind"] == "title" and row["brands"]:
                titles += 1
                branded += bool(set(nouns + adjectives) & set(row["brands"]))
        result[name] = {"labels right": right / union, "titles with a brand word returned": branded / max(titles, 1)}
    return pd.DataFrame(result).T
