"""Annoy itself: its import, with an error that says what to install, and a save that cleans up after a failure."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Any


def import_annoy() -> Any:
    try:
        import annoy
    except ImportError as exc:  # pragma: no cover - annoy is a declared dependency
        raise ImportError(
            "fashionsim.index.EmbeddingIndex needs Annoy: `pip install annoy` (or use ExactIndex)"
        ) from exc
    return annoy


def _open_files() -> dict[int, str]:
    """This process's open descriptors and what they point at (Linux /proc; empty elsewhere)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return {}
    files = {}
    for name in names:
        try:
            files[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except (OSError, ValueError):
            continue
    return files


def annoy_save(ann: Any, tmp: Path, path: Path) -> None:
    """``ann.save(tmp)``, closing the descriptor Annoy leaves open on a failed write.

    Annoy returns from a failed ``fwrite`` without closing its file: the
    temporary file is then deleted but its space stays taken while the
    process lives. The descriptor is found in /proc and closed, and the
    error names the final path (ENOSPC when the disk is full).
    """
    before = _open_files()
    try:
        if not ann.save(os.fspath(tmp)):
            raise OSError("Annoy returned failure")
    except OSError as exc:
        target = os.fspath(tmp)
        for fd, name in _open_files().items():
            if fd not in before and name.split(" (deleted)")[0] == target:
                with contextlib.suppress(OSError):
                    os.close(fd)
        text = str(exc)
        code = exc.errno or (errno.ENOSPC if "No space left" in text or "(28)" in text else errno.EIO)
        raise OSError(code, f"could not save the Annoy index ({text})", os.fspath(path)) from exc
