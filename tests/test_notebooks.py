"""Every notebook is a jupytext pair in sync, executed top to bottom with its outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _code(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("py", PAIRS, ids=[p.stem for p in PAIRS])
def test_pair_in_sync(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `python tools/run_notebooks.py {py}`"
    assert _code(jupytext.read(py)) == _code(jupytext.read(ipynb)), (
        f"{py.name} and {ipynb.name} differ: run `python tools/run_notebooks.py {py}`"
    )


@pytest.mark.parametrize("py", PAIRS, ids=[p.stem for p in PAIRS])
def test_executed_top_to_bottom_with_outputs(py):
    nb = jupytext.read(py.with_suffix(".ipynb"))
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts and all(counts), f"{py.stem}: a code cell was not executed"
    assert counts == list(range(1, len(counts) + 1)), f"{py.stem}: not executed top to bottom: {counts}"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{py.stem}: stored outputs contain an error"


def test_ipynb_without_twin():
    orphans = [p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if not p.with_suffix(".py").exists()]
    assert not orphans
