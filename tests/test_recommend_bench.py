"""The BPR benchmark: its re-implemented reference approaches are faithful, and the quick run works."""

from __future__ import annotations

import numpy as np
import pytest

from fashionsim.bench import bpr, references


def test_reference_sampler_obeys_the_rules():
    train = bpr.synthetic_train(30, 40, seed=3)
    dense = train.toarray() > 0
    triples = np.array(references.reference_sample(references.reference_user_train(train), 40, 2_000, seed=0))
    u, i, j = triples.T
    assert dense[u, i].all() and not dense[u, j].any()


def test_reference_auc_equals_ours():
    from fashionsim.metrics import auc
    from fashionsim.recommend import BPRSampler, FactorScores

    rng = np.random.default_rng(0)
    train = bpr.synthetic_train(25, 60, seed=1)
    users, items = rng.normal(size=(25, 4)), rng.normal(size=(60, 4))
    positives = BPRSampler(train).negatives(np.arange(25), rng)
    ours = auc(FactorScores(users, items), positives, train)
    assert ours == pytest.approx(references.reference_auc(users, items, positives, train, np.arange(25)), abs=1e-9)


@pytest.mark.bench
def test_quick_run_measures_every_row():
    rows = bpr.run(quick=True)
    assert len(rows) == 4
    assert all(r.ours_s > 0 and r.reference_s > 0 and r.peak_mib is not None for r in rows)


def test_cornac_rows_say_so_when_cornac_is_absent(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cornac", None)  # import cornac raises ImportError
    (row,) = bpr._cornac_rows(epochs=1)
    assert np.isnan(row.ours_s) and row.reference_s is None
    assert row.note == "skipped: Cornac is not installed (pip install 'fashionsim[peers]')"
