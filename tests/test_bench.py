"""The benchmark suite runs end to end at --quick sizes, so it cannot rot."""

from __future__ import annotations

import json

import pytest

from fashionsim.bench import runner
from fashionsim.cli import main

pytestmark = pytest.mark.bench


def test_bench_quick_json_has_a_row_per_area(capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quick"] is True and report["machine"]["cores"] >= 1
    areas = {row["area"] for row in report["rows"]}
    assert areas == set(runner.AREAS)
    for row in report["rows"]:
        assert row["ours_s"] > 0, row
        if row["reference_s"] is not None:
            assert row["ratio"] == pytest.approx(row["reference_s"] / row["ours_s"])
    table = runner.format_table(report)
    assert table.count("\n|") == len(report["rows"]) + 2   # header, rule, one line per row


def test_unknown_area_is_refused():
    with pytest.raises(ValueError, match="unknown benchmark area"):
        runner.run_all(quick=True, only=["nothing"])
