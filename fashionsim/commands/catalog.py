"""``fashionsim catalog import|info``: any catalog the loaders know -> the CSV folder; counts and problems.

``import`` reads a catalog in any format ``--catalog`` accepts (a folder per
product, an article-style CSV, DeepFashion, a CSV folder), validates it and
writes the three CSV tables with the images beside them, so that every
command and notebook reads it fast and as is. Written into the photos' own
folder, only the CSV files are added; anywhere else, the images are copied
(or hard-linked with ``--link``) under the same relative paths, all at once.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from fashionsim.commands._common import UsageError, emit, load_catalog

#: Fewer validation products than this and picking the best epoch on them is noise.
_MIN_VAL_PRODUCTS = 20


def _missing(values) -> int:
    text = values.astype("string").fillna("").str.strip().str.lower()
    return int(text.isin(["", "unknown", "nan", "none"]).sum())


def summary(cat) -> dict:
    """Counts and problems of a catalog (what ``catalog info`` prints)."""
    p, im = cat.products, cat.images
    info: dict = {
        "root": str(cat.root),
        "products": len(p),
        "images": len(im),
        "shop_images": int((im["source"] == "shop").sum()),
        "street_images": int((im["source"] == "street").sum()),
        "categories": int(p["category"].nunique()),
        "colors": int(p["color"].nunique()),
        "products_per_split": {s: int((p["split"] == s).sum()) for s in ("train", "val", "test")},
        "users": 0,
        "interactions": 0,
    }
    inter = cat.interactions
    if inter is not None and len(inter):
        info["users"] = int(inter["user_id"].nunique())
        info["interactions"] = len(inter)
        info["interactions_per_split"] = {s: int((inter["split"] == s).sum()) for s in ("train", "val", "test")}
    problems = []
    for column, what in (("category", "category"), ("color", "colour"), ("description", "description")):
        n = _missing(p[column])
        if n:
            problems.append(f"{n} of {len(p)} products have no {what} (left out of the rules that need one)")
    single = int((im.groupby("product_id").size() == 1).sum())
    if single:
        problems.append(f"{single} products have a single image (same-product positives need two)")
    if info["street_images"] == 0:
        problems.append("no street (user) photos: street-to-shop retrieval queries will be shop photos")
    n_val = info["products_per_split"]["val"]
    if n_val < _MIN_VAL_PRODUCTS:
        problems.append(f"only {n_val} validation products: too few to pick the best epoch on "
                        f"(train siamese --select-by none keeps the last one)")
    if not info["interactions"]:
        problems.append("no interactions: `train dvbpr` and `recommend` need users")
    info["problems"] = problems
    return info


def _text(d: dict) -> str:
    lines = [f"catalog {d['root']}"]
    for key in ("products", "images", "shop_images", "street_images", "categories", "colors", "users",
                "interactions"):
        lines.append(f"  {key.replace('_', ' ')}: {d[key]:,}")
    lines.append("  products per split: " + ", ".join(f"{k} {v:,}" for k, v in d["products_per_split"].items()))
    if "interactions_per_split" in d:
        lines.append("  interactions per split: "
                     + ", ".join(f"{k} {v:,}" for k, v in d["interactions_per_split"].items()))
    lines.append("problems:" if d["problems"] else "problems: none")
    lines += [f"  - {problem}" for problem in d["problems"]]
    if "written" in d:
        lines.append(f"wrote {d['written']} (use it with --catalog {d['written']})")
    return "\n".join(lines)


def _place(src: str, dst: Path, link: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(src, dst)
            return
        except OSError:   # another file system, or links not allowed: copy instead
            pass
    shutil.copy2(src, dst)


def run_import(args: argparse.Namespace) -> int:
    from fashionsim._io import atomic_dir
    from fashionsim.data import Catalog, read_catalog, write_catalog

    cat = load_catalog(args.source, args.catalog_format, args.image_root)
    out = Path(args.out).expanduser()
    if out.resolve() == cat.root:
        write_catalog(cat, out)   # beside the photos: only the three CSV files are added
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(f"--out {out} exists and is not an empty folder: give a new folder (or the photos' "
                             f"own folder, {cat.root}, to add only the CSV files)")
        with atomic_dir(out) as tmp:
            for rel, src in zip(cat.images["path"], cat.image_paths()):
                _place(src, tmp / rel, args.link)
            write_catalog(Catalog(cat.products, cat.images, cat.interactions, root=tmp), tmp)
    written = read_catalog(out)          # read back: what every command will see
    info = summary(written)
    info["written"] = str(out.resolve())
    emit(info, args.json, _text)
    return 0


def run_info(args: argparse.Namespace) -> int:
    cat = load_catalog(args.source, args.catalog_format, args.image_root)
    emit(summary(cat), args.json, _text)
    return 0


def register(sub) -> None:
    from fashionsim.commands._catalogs import FORMATS

    p = sub.add_parser("catalog", help="import your own catalog, or show a catalog's counts and problems",
                       description="`catalog import SRC --out DIR` turns any catalog the loaders read into the "
                                   "CSV folder every command reads; `catalog info SRC` prints its counts and "
                                   "problems.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def common(q):
        q.add_argument("--catalog-format", choices=FORMATS, default="auto",
                       help="how to read SRC (default: auto, detected from what is on disk)")
        q.add_argument("--image-root", default=None,
                       help="article-style CSV only: the folder its image paths are relative to "
                            "(default: the CSV's folder)")
        q.add_argument("--json", action="store_true")

    q = actions.add_parser("import", help="SRC (any format) -> a validated CSV catalog folder",
                           description="Read SRC in any format --catalog accepts, validate it and write "
                                       "products.csv, images.csv (and interactions.csv) with the images into DIR.")
    q.add_argument("source", metavar="SRC", help="a folder per product, an article-style CSV, a DeepFashion root, "
                                                 "a CSV folder, or 'demo'")
    q.add_argument("--out", required=True, metavar="DIR",
                   help="a new folder (the images are copied into it), or SRC itself (only the CSVs are added)")
    q.add_argument("--link", action="store_true", help="hard-link the images instead of copying (same disk)")
    common(q)
    q.set_defaults(func=run_import)

    q = actions.add_parser("info", help="a catalog's counts and problems",
                           description="Load a catalog in any format and print its counts and the problems "
                                       "found (missing categories or colours, no street photos, a tiny "
                                       "validation split, no users).")
    q.add_argument("source", metavar="SRC", help="a catalog in any format --catalog accepts, or 'demo'")
    common(q)
    q.set_defaults(func=run_info)
