"""Every docstring example in fashionsim runs, as ``pytest --doctest-modules fashionsim`` would run it.

Examples are part of the documentation, so they are executed, not skipped: an example that needs what
this machine lacks (ImageNet weights, a network) is prose, not a doctest.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import fashionsim

PACKAGE = Path(fashionsim.__file__).resolve().parent
#: modules whose import has side effects (the CLI entry point runs on import)
NOT_IMPORTED = {"fashionsim.__main__"}


def _modules() -> list[str]:
    names = ["fashionsim"] + [m.name for m in pkgutil.walk_packages([str(PACKAGE)], prefix="fashionsim.")]
    return sorted(n for n in names if n not in NOT_IMPORTED)


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # examples that write files write them here
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, name) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)[-8000:]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_example_is_skipped(path):
    skipped = [i + 1 for i, line in enumerate(path.read_text().splitlines()) if re.search(r"doctest:\s*\+SKIP", line)]
    assert not skipped, f"{path.name}: `+SKIP` on lines {skipped}: make the example run, or write it as prose"


def test_examples_are_collected():
    """The finder sees the package's examples (the checks above are not vacuous)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = sum(len(t.examples) for n in _modules() for t in finder.find(importlib.import_module(n), n))
    assert found >= 50, found
