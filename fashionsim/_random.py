"""Seeds and generators: every random step in fashionsim takes one of these."""

from __future__ import annotations

import numbers

import numpy as np

RandomState = int | np.random.Generator | None


def as_generator(random_state: RandomState, *, name: str = "random_state") -> np.random.Generator:
    """Turn an int seed, a Generator or None into a ``numpy.random.Generator``.

    A Generator is returned as is (the caller shares its stream); None gives a
    fresh, unseeded one.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"{name} must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None, got {type(random_state).__name__}")
