"""Seeds and generators: every random step in fashionsim takes one of these.

A public ``seed`` parameter is an int, a ``numpy.random.Generator`` or None (:data:`Seed`), and the
function turns it into a Generator with :func:`as_generator`:

>>> as_generator(0).integers(100, size=3).tolist() == as_generator(0).integers(100, size=3).tolist()
True
>>> rng = as_generator(3)
>>> as_generator(rng) is rng
True
"""

from __future__ import annotations

import numbers

import numpy as np

#: What a ``seed`` parameter accepts: an int (>= 0), a Generator (its stream is shared) or None (unseeded).
Seed = int | np.random.Generator | None
#: The former name of :data:`Seed`, kept for the modules that still import it.
RandomState = Seed


def as_generator(seed: Seed, *, name: str = "random_state") -> np.random.Generator:
    """Turn an int seed, a Generator or None into a ``numpy.random.Generator``.

    A Generator is returned as is (the caller shares its stream); None gives a
    fresh, unseeded one. ``name`` is the parameter named in the error (callers whose
    parameter is ``seed`` pass ``name="seed"``).
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative int, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None, got {type(seed).__name__}")
