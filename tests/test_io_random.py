"""Atomic writes and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from fashionsim._io import atomic_dir, atomic_path, write_text_atomic
from fashionsim._random import as_generator


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "sub" / "model.keras"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == target.parent and not target.exists()
        tmp.write_text("x")
    assert target.read_text() == "x"
    assert [p.name for p in target.parent.iterdir()] == ["model.keras"]


def test_atomic_path_leaves_old_file_and_no_debris_on_failure(tmp_path):
    target = write_text_atomic(tmp_path / "a.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_dir_replaces_whole_folder(tmp_path):
    target = tmp_path / "demo"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "c.txt").write_text("3")
            raise ValueError("stop")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_as_generator():
    assert as_generator(3).integers(1000) == as_generator(3).integers(1000)
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    assert isinstance(as_generator(None), np.random.Generator)
    with pytest.raises(TypeError, match="random_state"):
        as_generator("seed")
    with pytest.raises(ValueError, match="non-negative"):
        as_generator(-1)
