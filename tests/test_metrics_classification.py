"""fashionsim.metrics.classification: F1 against scikit-learn, per-tag table, the frequency baseline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from fashionsim.metrics import FrequencyBaseline, multilabel_f1, per_tag_precision_recall

Y_TRUE = np.array([
    [1, 0, 1, 0],
    [0, 1, 0, 0],
    [1, 1, 0, 0],
    [0, 0, 1, 1],
    [1, 0, 0, 0],
])
SCORES = np.array([
    [0.9, 0.2, 0.4, 0.1],
    [0.6, 0.7, 0.1, 0.0],
    [0.8, 0.3, 0.2, 0.5],
    [0.1, 0.1, 0.9, 0.2],
    [0.5, 0.5, 0.5, 0.5],
])


def test_f1_known_values():
    pred = (SCORES >= 0.5).astype(int)
    # by hand: TP = 1+1+1+1+1 = 5 (row 0: tag0; row 1: tag1; row 2: tag0; row 3: tag2; row 4: tag0)
    # FP = row1 tag0, row2 tag3, row4 tags 1,2,3 = 5; FN = row0 tag2, row2 tag1, row3 tag3 = 3
    assert multilabel_f1(Y_TRUE, SCORES)["micro"] == pytest.approx(2 * 5 / (2 * 5 + 5 + 3))
    for average in ("micro", "macro", "samples"):
        expected = f1_score(Y_TRUE, pred, average=average, zero_division=0)
        assert multilabel_f1(Y_TRUE, SCORES)[average] == pytest.approx(expected)


def test_threshold_changes_decisions():
    high = multilabel_f1(Y_TRUE, SCORES, threshold=0.85)
    expected = f1_score(Y_TRUE, (SCORES >= 0.85).astype(int), average="micro", zero_division=0)
    assert high["micro"] == pytest.approx(expected)
    assert multilabel_f1(Y_TRUE, Y_TRUE) == {"micro": 1.0, "macro": 1.0, "samples": 1.0}


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="shape"):
        multilabel_f1(Y_TRUE, SCORES[:, :3])
    with pytest.raises(ValueError, match="0 and 1"):
        multilabel_f1(Y_TRUE * 2, SCORES)
    with pytest.raises(ValueError, match="2-D"):
        multilabel_f1(Y_TRUE[0], SCORES[0])


def test_per_tag_precision_recall_matches_sklearn():
    names = ["a", "b", "c", "d"]
    table = per_tag_precision_recall(Y_TRUE, SCORES, names).set_index("tag")
    pred = (SCORES >= 0.5).astype(int)
    np.testing.assert_allclose(table.loc[names, "precision"],
                               precision_score(Y_TRUE, pred, average=None, zero_division=0))
    np.testing.assert_allclose(table.loc[names, "recall"], recall_score(Y_TRUE, pred, average=None, zero_division=0))
    assert table.loc["a", "support"] == 3 and table.loc["a", "predicted"] == 4


def test_tuned_frequency_baseline_is_the_best_constant_answer():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 8)) < np.array([0.9, 0.7, 0.5, 0.4, 0.2, 0.1, 0.05, 0.02])).astype(int)
    base = FrequencyBaseline().fit(y)
    np.testing.assert_allclose(base.prior_, y.mean(axis=0))
    pred = base.predict(len(y))
    assert (pred == pred[0]).all()  # the same answer for every item
    best = multilabel_f1(y, pred)["micro"]
    # brute force over every "m most frequent tags" answer
    order = np.argsort(-y.mean(axis=0))
    for m in range(0, 9):
        const = np.zeros_like(y)
        const[:, order[:m]] = 1
        assert best >= f1_score(y, const, average="micro", zero_division=0) - 1e-12
    np.testing.assert_allclose(base.predict_proba(3), np.tile(y.mean(axis=0), (3, 1)))


def test_prior_and_stratified_strategies():
    y = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert FrequencyBaseline("prior").fit(y).predict(2).tolist() == [[1, 0, 0], [1, 0, 0]]
    a = FrequencyBaseline("stratified", random_state=3).fit(y).predict(1000)
    b = FrequencyBaseline("stratified", random_state=3).fit(y).predict(1000)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.mean(axis=0), [0.75, 0.25, 0.25], atol=0.05)
    with pytest.raises(ValueError, match="strategy"):
        FrequencyBaseline("mode").fit(y)
    with pytest.raises(RuntimeError, match="not fitted"):
        FrequencyBaseline().predict(3)


def test_best_f1_threshold_picks_the_best_f1_of_the_grid():
    from fashionsim.metrics import best_f1_threshold

    grid = [0.15, 0.35, 0.55, 0.75, 0.95]
    th, f1 = best_f1_threshold(Y_TRUE, SCORES, thresholds=grid)
    scores = [f1_score(Y_TRUE, (SCORES >= t).astype(int), average="micro", zero_division=0) for t in grid]
    assert f1 == pytest.approx(max(scores))
    assert th == max(t for t, s in zip(grid, scores) if s == pytest.approx(max(scores)))
    assert best_f1_threshold(Y_TRUE, Y_TRUE * 0.8 + 0.1)[1] == 1.0
    with pytest.raises(ValueError, match="average"):
        best_f1_threshold(Y_TRUE, SCORES, average="weighted")
