"""Where ``fashionsim index`` records what ``fashionsim search`` needs beside an index file."""

from __future__ import annotations

import argparse
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
