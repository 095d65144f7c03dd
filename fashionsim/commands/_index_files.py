"""What ``fashionsim index`` writes beside an index file for ``fashionsim search``, and where it builds big ones."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


def products_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".products.json")


def catalog_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".catalog.json")


def catalog_spec(args: argparse.Namespace) -> dict:
    """How to open the catalog again from anywhere: --catalog (absolute), --catalog-format, --image-root."""
    spec = args.catalog if args.catalog == "demo" else str(Path(args.catalog).expanduser().resolve())
    root = getattr(args, "image_root", None)
    return {"catalog": spec, "catalog_format": getattr(args, "catalog_format", "auto"),
            "image_root": str(Path(root).expanduser().resolve()) if root else None}


def write_index_sidecars(index_path: Path, ids: Sequence, products: Sequence | None, spec: dict | None) -> None:
    """The image -> product map (every id of every shard) and the catalog spec, atomically beside the index."""
    from fashionsim._io import write_text_atomic

    if products is not None:
        if len(products) != len(ids):
            raise ValueError(f"{len(products)} products for {len(ids)} ids: cannot map the index to products")
        write_text_atomic(products_path(index_path), json.dumps(dict(zip(map(str, ids), products))))
    if spec:
        write_text_atomic(catalog_path(index_path), json.dumps(spec))


def estimated_index_bytes(n: int, dim: int, n_trees: int) -> int:
    """An upper estimate of an Annoy forest's size: one node of 4*dim + 16 bytes per item (+15%), 14 bytes per
    item per tree (measured at 1,000,000 x 128: 660 bytes/item with 10 trees, 862 with 25; docs/scale.md)."""
    return int(n * ((4 * dim + 16) * 1.15 + 14 * n_trees))


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def build_in_memory_too_large(n: int, dim: int, n_trees: int) -> bool:
    """True when the forest would take more than half of the memory available now: build it on disk instead."""
    available = _available_memory()
    return available is not None and estimated_index_bytes(n, dim, n_trees) > available // 2


@contextlib.contextmanager
def on_disk_build_file(out: Path, n: int, dim: int, n_trees: int) -> Iterator[Path]:
    """A temporary file beside ``out`` for Annoy's on-disk build, removed afterwards.

    Annoy grows that file through a memory map, where a full disk would be a
    SIGBUS: so the free space (the build file plus the copy ``save`` makes) is
    checked first and its lack is an ENOSPC ``OSError`` naming ``out``.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    need = 2 * estimated_index_bytes(n, dim, n_trees)
    free = shutil.disk_usage(out.parent).free
    if free < need:
        raise OSError(errno.ENOSPC, f"building the index on disk needs about {need / 2**20:,.0f} MiB free beside "
                                    f"it, {free / 2**20:,.0f} MiB are", os.fspath(out))
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.building-", suffix=".ann", dir=out.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
