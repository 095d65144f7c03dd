"""The cut-offs K of every "@K" metric: the reference's default list and the one rule that checks them."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

__all__ = ["DEFAULT_KS", "check_ks"]

DEFAULT_KS = (1, 3, 5, 10, 25, 50, 100)   # the K of the street-to-shop reference


def check_ks(ks: int | Iterable[int]) -> list[int]:
    """``ks`` (one int or several) as a list of positive ints, in the order given.

    >>> check_ks(10), check_ks((1, 5))
    ([10], [1, 5])
    """
    values = [ks] if isinstance(ks, numbers.Integral) else list(ks)
    if not values:
        raise ValueError("ks is empty: give at least one K")
    for k in values:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"every K must be a positive int, got {k!r} in ks={values}")
    return [int(k) for k in values]
