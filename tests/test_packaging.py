"""The project's own files install what it needs: pyproject, environment.yml, Makefile, CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11; the packaging checks need not run on 3.10

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from the PyPI ones
CONDA_TO_PYPI = {"python-annoy": "annoy"}
NOT_PACKAGES = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                if not pip_dep.startswith("-e"):
                    name, pin = _split(pip_dep)
                    found[name] = pin
            continue
        name, pin = _split(dep)
        if name not in NOT_PACKAGES:
            found[CONDA_TO_PYPI.get(name, name)] = pin
    return found


def test_environment_yml_names_the_same_packages_as_pyproject():
    py, env = _pyproject(), _environment()
    assert set(env) == set(py), f"only in environment.yml: {set(env) - set(py)}; only in pyproject: {set(py) - set(env)}"


def test_environment_yml_pins_match_pyproject():
    py, env = _pyproject(), _environment()
    different = {name: (py[name], env[name]) for name in py if py[name] != env.get(name)}
    assert not different


def test_environment_installs_the_project_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.S)
    assert commands, "README has no command block"
    first = [line.split("#")[0].strip() for line in commands[0].splitlines() if line.split("#")[0].strip()]
    assert first[:2] == ["make demo", "make test"], first
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M), "CI must run exactly the README's test command"


def test_every_subpackage_module_imports_without_tensorflow():
    """Pure-data modules must not import TensorFlow at import time."""
    import subprocess
    import sys

    code = ("import sys, fashionsim.data, fashionsim.triplets, fashionsim.metrics, fashionsim.mining, "
            "fashionsim.tags, fashionsim.index, fashionsim.recommend; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
