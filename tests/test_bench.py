"""The benchmark suite runs end to end at --quick sizes, so it cannot rot."""

from __future__ import annotations

import json

import pytest

from fashionsim.bench import runner
from fashionsim.cli import main

pytestmark = pytest.mark.bench


#: areas whose quick run has a test of its own, which checks their rows in more detail
OWN_TESTS = {"scale": "tests/test_bench_scale.py", "bpr": "tests/test_recommend_bench.py"}


def test_bench_quick_json_has_a_row_per_area(capsys):
    others = [area for area in runner.AREAS if area not in OWN_TESTS]
    assert main(["bench", "--quick", "--json", *[arg for area in others for arg in ("--only", area)]]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quick"] is True and report["machine"]["cores"] >= 1
    areas = {row["area"] for row in report["rows"]}
    assert areas == set(others)
    for row in report["rows"]:
        assert row["ours_s"] > 0, row
        if row["reference_s"] is not None:
            assert row["ratio"] == pytest.approx(row["reference_s"] / row["ours_s"])
    table = runner.format_table(report)
    assert table.count("\n|") == len(report["rows"]) + 2   # header, rule, one line per row


def test_unknown_area_is_refused():
    with pytest.raises(ValueError, match="unknown benchmark area"):
        runner.run_all(quick=True, only=["nothing"])


def test_every_area_is_run_by_a_test():
    from pathlib import Path

    assert set(OWN_TESTS) <= set(runner.AREAS)
    for area, path in OWN_TESTS.items():
        text = (Path(__file__).resolve().parents[1] / path).read_text()
        assert "quick" in text and area in text, (area, path)
