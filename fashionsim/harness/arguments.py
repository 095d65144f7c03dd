"""Argument checks the trainers share."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_positive", "check_seed"]


def check_positive(name: str, value: Any) -> int:
    """``value`` as an int >= 1, else a ValueError naming ``name``.

    >>> check_positive("epochs", 3)
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_seed(seed: Any) -> int:
    """A training seed: an int >= 0 (it seeds TensorFlow as well as NumPy)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)
