"""The project's own files install what it needs: pyproject, environment.yml, Makefile, CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11; the packaging checks need not run on 3.10

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from the PyPI ones
CONDA_TO_PYPI = {"python-annoy": "annoy", "python-build": "build"}
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


def test_version_is_written_once():
    import fashionsim

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in meta and fashionsim.__version__ == meta["version"]
    hits = [p for p in (ROOT / "fashionsim").rglob("*.py")
            if re.search(r"__version__\s*=\s*[\"']\d+\.\d+", p.read_text())]
    assert not hits, f"a version string written by hand in {hits}: read it with importlib.metadata"


def test_typed_licensed_classified():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    assert (ROOT / "fashionsim" / "py.typed").is_file()
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["fashionsim"]
    assert project["license"] == "MIT" and "LICENSE" in project["license-files"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "Typing :: Typed" in project["classifiers"]
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in project["classifiers"])
    assert project["urls"] and all(u.startswith("https://") for u in project["urls"].values())


def test_environment_yml_takes_annoy_from_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert any(isinstance(d, str) and d.startswith("python-annoy") for d in env["dependencies"])


def test_readme_names_the_compiler_annoy_needs_and_links_only_inside_or_to_the_web():
    readme = (ROOT / "README.md").read_text()
    assert "C++ compiler" in readme and "build-essential" in readme
    assert "shared/reference" not in readme
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        if target.startswith(("http://", "https://", "#")):
            continue
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"README links to {target}, not in the repository"


def test_sdist_leaves_the_tests_out_on_purpose(tmp_path):
    """The sdist is the library only (MANIFEST.in says why): the tests need the repository's notebooks."""
    import subprocess
    import sys
    import tarfile

    pytest.importorskip("build")
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} < 77 cannot build this pyproject (pip install -e .[dev])")
    assert "prune tests" in (ROOT / "MANIFEST.in").read_text()
    result = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path),
                             str(ROOT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (sdist,) = tmp_path.glob("fashionsim-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "fashionsim/py.typed", "fashionsim/cli.py"} <= names
    assert not any(n.startswith(("tests/", "notebooks/")) or n == "conftest.py" for n in names), sorted(names)


@pytest.mark.slow
def test_load_model_in_a_fresh_interpreter(tmp_path):
    """The documented way, ``fashionsim.load_model``, needs no import of fashionsim.models first."""
    import subprocess
    import sys

    save = ("from fashionsim.models import build_embedding_model; "
            f"build_embedding_model(backbone='small_cnn', input_size=32).save({str(tmp_path / 'm.keras')!r})")
    load = ("import sys, fashionsim; m = fashionsim.load_model(sys.argv[1]); "
            "assert 'fashionsim.models' not in sys.argv; print(m.output_shape[-1])")
    env_ok = subprocess.run([sys.executable, "-c", save], capture_output=True, text=True, cwd=tmp_path)
    assert env_ok.returncode == 0, env_ok.stderr[-2000:]
    for target in (tmp_path / "m.keras", tmp_path):
        if target == tmp_path:
            (tmp_path / "m.keras").rename(tmp_path / "model.keras")
        out = subprocess.run([sys.executable, "-c", load, str(target)], capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip().splitlines()[-1] == "128"
