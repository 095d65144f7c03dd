"""``fashionsim search``: query images -> the top-K products of an index."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fashionsim.commands._common import (
    UsageError, add_catalog_argument, catalog_from_args, emit, image_files, load_catalog, require_positive,
)
from fashionsim.commands._index_files import catalog_path, products_path
from fashionsim.commands._show import describe, label, product_info, save_grid


# --------------------------------------------------------------------- search
def run_search(args: argparse.Namespace) -> int:
    import pandas as pd

    from fashionsim.embed import model_fingerprint
    from fashionsim.index import EmbeddingIndex
    from fashionsim.models.io import load_model
    from fashionsim.search import search_products

    require_positive(args.k, "-k", 5)
    files = image_files(args.images)
    model = load_model(args.model)
    index = EmbeddingIndex.load(args.index, fingerprint=model_fingerprint(model),
                                dim=int(model.output_shape[-1]))
    products = None
    products_file = products_path(Path(args.index))
    if products_file.is_file():   # image id (as JSON text) -> product id, written by `fashionsim index`
        by_text = pd.Series(json.loads(products_file.read_text()), dtype=object)
        products = pd.Series(by_text.reindex(pd.Index(index.ids).astype(str)).to_numpy(), index=index.ids)
    found = search_products(model, index, files, args.k, products=products, check_fingerprint=False)
    cat = _search_catalog(args)
    info = product_info(cat) if cat is not None else None
    results = []
    for path, matches in zip(files, found):
        hits = [{"product_id": hit["product_id"], **describe(info, hit["product_id"]), "image_id": hit["image_id"],
                 "distance": round(hit["distance"], 6)} for hit in matches.records()]
        results.append({"query": str(path), "results": hits})
    if args.show:
        if cat is None:
            raise UsageError("--show draws the results' photos, so it needs the catalog: give --catalog "
                             "(the index does not record one)")
        rows = [[Path(r["query"])] + [h["image_id"] for h in r["results"]] for r in results]
        titles = [["query\n" + _short(Path(r["query"]).name)]
                  + [f"{h['product_id'] or h['image_id']}\n{label(h)}\ndistance {h['distance']:.3f}"
                     for h in r["results"]] for r in results]
        shown = save_grid(args.show, cat, rows, titles, [f"query {i + 1}" for i in range(len(results))],
                          f"top {args.k} products for {len(results)} quer{'y' if len(results) == 1 else 'ies'}")
        for r in results:
            r["picture"] = str(shown)

    def text(rs):
        lines = []
        for r in rs:
            lines.append(r["query"])
            lines += ["  ".join(part for part in (f"  {i + 1:>2}. {h['product_id'] or h['image_id']}", label(h),
                                                 f"distance {h['distance']:.4f}") if part)
                      for i, h in enumerate(r["results"])]
        if args.show:
            lines.append(f"picture: {shown}")
        return "\n".join(lines)

    emit(results, args.json, text)
    return 0


def _short(name: str, width: int = 18) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def _search_catalog(args: argparse.Namespace):
    """The catalog for names and pictures: --catalog when given, else the one the index records, else none."""
    if args.catalog is not None:
        return catalog_from_args(args)
    recorded = catalog_path(Path(args.index))
    if recorded.is_file():
        spec = json.loads(recorded.read_text())
        return load_catalog(spec["catalog"], spec.get("catalog_format", "auto"), spec.get("image_root"))
    return None


def register(sub) -> None:
    p = sub.add_parser("search", help="image paths or a folder -> the top-K products with distances",
                       description="Embed query images with the model and look them up in the index. The index "
                                   "must have been built from this model's embeddings.")
    p.add_argument("images", nargs="+", help="image files or folders of images")
    p.add_argument("--model", required=True, help="the .keras model that made the index's embeddings")
    p.add_argument("--index", required=True, help="the .ann file written by `fashionsim index`")
    p.add_argument("-k", type=int, default=5, help="how many products per query (default 5)")
    add_catalog_argument(p)
    p.set_defaults(catalog=None)   # default: the catalog the index was built from (recorded beside it)
    p.add_argument("--show", metavar="FILE.png",
                   help="also save a picture: each query and its results, captioned with product id, "
                        "category, colour and distance")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_search)
