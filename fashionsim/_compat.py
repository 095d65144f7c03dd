"""Renamed keyword arguments: the old name keeps working for a while, with a ``FutureWarning``.

fashionsim speaks one vocabulary in its public signatures (``image_size``, ``seed``). Where a
parameter was renamed, :func:`renamed` lets callers that still pass the old keyword run unchanged
and tells them the new name. Positional calls are unaffected (the parameter keeps its place).

>>> @renamed(size="image_size")
... def load(path: str, image_size: int) -> int:
...     return image_size
>>> load("a.png", 32), load("a.png", image_size=32)
(32, 32)
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     load("a.png", size=32)
32
>>> print(caught[0].category.__name__, caught[0].message)
FutureWarning load(size=...) is deprecated: pass image_size=... instead
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["renamed"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Decorate a function (or method) so that each old keyword is accepted as its new name.

    ``@renamed(size="image_size", random_state="seed")``: a call passing ``size=`` gets a
    ``FutureWarning`` naming the function and both names, and runs as if it passed
    ``image_size=``. Passing both the old and the new name is a ``TypeError``. The
    decorated function's signature (``inspect.signature``, ``help``) shows only the new names.
    """
    for old, new in old_to_new.items():
        if not (old.isidentifier() and isinstance(new, str) and new.isidentifier()) or old == new:
            raise ValueError(f"renamed() takes old=\"new\" pairs of distinct parameter names, got {old}={new!r}")

    def decorate(func: F) -> F:
        parameters = inspect.signature(func).parameters
        missing = [new for new in old_to_new.values() if new not in parameters]
        if missing:
            raise ValueError(f"{func.__qualname__} has no parameter {missing[0]!r} to rename to")
        shadowed = [old for old in old_to_new if old in parameters]
        if shadowed:
            raise ValueError(f"{func.__qualname__} still has a parameter {shadowed[0]!r}: it cannot be an old name")
        name = func.__qualname__.rpartition("<locals>.")[2]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{name}() got both {old}= (its old name) and {new}=: pass only {new}=")
                warnings.warn(f"{name}({old}=...) is deprecated: pass {new}=... instead", FutureWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
