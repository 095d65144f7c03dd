"""The layers of the package, written down in pyproject.toml as an import-linter contract, hold.

`lint-imports` reads ``[tool.importlinter]`` and fails on any import (at module level or inside a
function) that goes up a layer, any TensorFlow import from the pure floor, and any import of
``data`` or ``index`` from ``metrics``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is missing: it is a dev dependency (pip install -e '.[dev]')")
    return found


def test_the_layer_contract_holds():
    run = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "broken" not in run.stdout.lower().replace("0 broken", "")


def test_the_contract_can_fail(tmp_path):
    """The same contract on a probe package whose metrics imports TensorFlow and data: it is broken."""
    import re
    import tomllib

    section = (ROOT / "pyproject.toml").read_text()
    section = section[section.index("[tool.importlinter]"):].replace("fashionsim", "probe")
    contracts = tomllib.loads(section)["tool"]["importlinter"]["contracts"]
    names = {m for c in contracts for layer in c.get("layers", []) for m in re.split(r"[:|]", layer)}
    names |= {m for c in contracts for m in c.get("source_modules", []) + c.get("forbidden_modules", [])}
    for name in sorted(n.strip() for n in names if n.strip().startswith("probe.")):
        (tmp_path / "probe").mkdir(exist_ok=True)
        (tmp_path / f"{name.replace('.', '/')}.py").write_text("")
    (tmp_path / "probe" / "__init__.py").write_text("")
    (tmp_path / "probe" / "metrics.py").write_text("import tensorflow\nfrom probe import data\n")
    (tmp_path / "tensorflow.py").write_text("")
    (tmp_path / "config.toml").write_text(section)
    run = subprocess.run([_lint_imports(), "--no-cache", str(tmp_path / "config.toml")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)})
    assert run.returncode != 0, run.stdout
    assert "probe.metrics is not allowed to import tensorflow" in run.stdout, run.stdout
    assert "probe.metrics is not allowed to import probe.data" in run.stdout, run.stdout
