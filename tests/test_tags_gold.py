"""fashionsim.tags on the hand-labelled gold set (tests/data/tags_gold_*.tsv, see tests/data/README.md).

A label is a (word, noun|adjective) pair of a text. The score is the share of
gold labels the tagger returns (``recall``) and the share of returned labels
that are gold (``precision``); ``accuracy`` counts a label right when it is in
both, over all labels in either (a wrong class or a brand returned costs).
"""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest

from fashionsim import tags

GOLD_FILES = sorted((Path(__file__).parent / "data").glob("tags_gold_*.tsv"))


def load_gold() -> list[dict]:
    rows = []
    for path in GOLD_FILES:
        with path.open(encoding="utf-8") as handle:
            lines = [line for line in handle if not line.startswith("#")]
        for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append({"kind": row["kind"], "text": row["text"], "nouns": (row["nouns"] or "").split(),
                         "adjectives": (row["adjectives"] or "").split(), "names": (row["names"] or "").split()})
    return rows


def labels(nouns, adjectives) -> collections.Counter:
    return collections.Counter([(w, "noun") for w in nouns] + [(w, "adj") for w in adjectives])


def score(rows: list[dict], predicted) -> dict[str, float]:
    """predicted: DataFrame with nouns/adjectives per row of ``rows``."""
    right = gold_n = pred_n = union = 0
    for row, nouns, adjectives in zip(rows, predicted["nouns"], predicted["adjectives"]):
        gold, pred = labels(row["nouns"], row["adjectives"]), labels(nouns, adjectives)
        right += sum((gold & pred).values())
        gold_n += sum(gold.values())
        pred_n += sum(pred.values())
        union += sum((gold | pred).values())
    return {"recall": right / gold_n, "precision": right / pred_n, "accuracy": right / union,
            "n_labels": gold_n, "n_texts": len(rows)}


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return load_gold()


def test_gold_set_is_big_enough_and_well_formed(gold):
    assert len(gold) >= 200
    kinds = collections.Counter(r["kind"] for r in gold)
    assert kinds["description"] >= 100 and kinds["title"] >= 100
    assert sum(bool(r["names"]) for r in gold if r["kind"] == "title") >= 90  # titles carry brand names
    for r in gold:
        words = r["nouns"] + r["adjectives"]
        assert words and all(w == w.lower() for w in words), r["text"]
        assert not set(words) & set(r["names"]), r["text"]


def test_pipeline_gets_at_least_92_percent_of_labels_right(gold):
    predicted = tags.nouns_and_adjectives([r["text"] for r in gold])
    s = score(gold, predicted)
    assert s["accuracy"] >= 0.92, s
    assert s["recall"] >= 0.92 and s["precision"] >= 0.92, s


def test_pipeline_beats_the_plain_nn_jj_reading(gold):
    texts = [r["text"] for r in gold]
    plain = score(gold, tags.nouns_and_adjectives(texts, plain=True))
    ours = score(gold, tags.nouns_and_adjectives(texts))
    assert ours["accuracy"] > plain["accuracy"] + 0.1, (plain, ours)


def test_no_brand_name_or_stop_word_is_returned(gold):
    predicted = tags.nouns_and_adjectives([r["text"] for r in gold])
    stop = tags.STOPWORDS | tags.load_lexicon().stop_words
    for row, nouns, adjectives in zip(gold, predicted["nouns"], predicted["adjectives"]):
        returned = set(nouns) | set(adjectives)
        assert not returned & stop, (row["text"], returned & stop)
        brands = {w for w in row["names"] if row["kind"] == "title" or w in returned}
        assert not returned & brands, (row["text"], returned & brands)
