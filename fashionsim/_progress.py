"""Progress bars for long loops (tqdm), switchable off for notebooks under test."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T], *, enabled: bool = True, total: int | None = None, desc: str | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar when ``enabled``; otherwise return it unchanged."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def report(text: str, *, logger=None, show: bool = True) -> None:
    """Log ``text`` (INFO) and, when ``show``, print it above any open progress bar (``tqdm.write``).

    Epoch lines and bars then never overwrite each other on a terminal.
    """
    if logger is not None:
        logger.info(text)
    if show:
        from tqdm import tqdm  # the plain class: tqdm.auto would warn in a notebook without ipywidgets

        tqdm.write(text)
