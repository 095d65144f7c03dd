"""``fashionsim embed``, ``index`` and ``search``: from a model to street-to-shop answers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fashionsim.commands._common import (
    UsageError, add_catalog_argument, catalog_from_args, emit, image_files, load_catalog, model_input_size,
    require_positive,
)
from fashionsim.commands._show import describe, label, product_info, save_grid


# ---------------------------------------------------------------------- embed
def run_embed(args: argparse.Namespace) -> int:
    from fashionsim.embed import embed_to_file
    from fashionsim.models.io import load_model

    require_positive(args.batch_size, "--batch-size", 64)   # checked before any file is written
    model = load_model(args.model)
    cat = catalog_from_args(args)
    table = cat.images
    if args.split:
        table = table[table["product_id"].isin(cat.products.loc[cat.products["split"] == args.split, "product_id"])]
    if args.source:
        table = table[table["source"] == args.source]
    if table.empty:
        raise UsageError(f"no images of split={args.split!r} source={args.source!r} in catalog {args.catalog}")
    ids = table["image_id"].tolist()
    out = embed_to_file(model, cat.image_paths(ids), ids, args.out, model_input_size(model),
                        batch_size=args.batch_size, resume=not args.no_resume, progress=not args.json,
                        extra={"products": table["product_id"].tolist(), "catalog": str(cat.root),
                               "catalog_spec": _catalog_spec(args),
                               "model": str(Path(args.model).resolve())})
    meta = json.loads(out.with_suffix(".json").read_text())
    emit({"embeddings": str(out), "n": len(ids), "dim": meta["dim"], "fingerprint": meta["fingerprint"]},
         args.json, lambda d: f"wrote {d['n']} embeddings of dimension {d['dim']} to {d['embeddings']} "
                              f"(model {d['fingerprint']})")
    return 0


# ---------------------------------------------------------------------- index
def _products_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".products.json")


def _catalog_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".catalog.json")


def _catalog_spec(args: argparse.Namespace) -> dict:
    """How to open the catalog again from anywhere: --catalog (absolute), --catalog-format, --image-root."""
    spec = args.catalog if args.catalog == "demo" else str(Path(args.catalog).expanduser().resolve())
    root = getattr(args, "image_root", None)
    return {"catalog": spec, "catalog_format": getattr(args, "catalog_format", "auto"),
            "image_root": str(Path(root).expanduser().resolve()) if root else None}


def run_index(args: argparse.Namespace) -> int:
    from fashionsim._io import write_text_atomic
    from fashionsim.embed import load_embeddings
    from fashionsim.index import EmbeddingIndex

    require_positive(args.n_trees, "--n-trees", 50)
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed} (e.g. --seed 0)")
    vectors, ids, meta = load_embeddings(args.embeddings)
    index = EmbeddingIndex.build(vectors, ids, metric=args.metric, n_trees=args.n_trees, seed=args.seed,
                                 fingerprint=meta["fingerprint"])
    out = index.save(args.out)
    products = meta.get("products")
    if products is not None:
        write_text_atomic(_products_path(out), json.dumps(dict(zip(map(str, ids), products))))
    if meta.get("catalog_spec"):
        write_text_atomic(_catalog_path(out), json.dumps(meta["catalog_spec"]))
    emit({"index": str(out), "n": len(ids), "dim": index.dim, "metric": args.metric, "n_trees": args.n_trees,
          "fingerprint": meta["fingerprint"]}, args.json,
         lambda d: f"indexed {d['n']} vectors ({d['metric']}, {d['n_trees']} trees) into {d['index']}")
    return 0


# --------------------------------------------------------------------- search
def run_search(args: argparse.Namespace) -> int:
    from fashionsim import images
    from fashionsim.embed import model_fingerprint
    from fashionsim.index import EmbeddingIndex
    from fashionsim.models.io import load_model

    require_positive(args.k, "-k", 5)
    files = image_files(args.images)
    model = load_model(args.model)
    index = EmbeddingIndex.load(args.index, fingerprint=model_fingerprint(model),
                                dim=int(model.output_shape[-1]))
    products_file = _products_path(Path(args.index))
    to_product = json.loads(products_file.read_text()) if products_file.is_file() else None
    size = model_input_size(model)
    batch = np.stack([images.load_image(f, size) for f in files])   # decodes and names a bad file
    vectors = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
    # Ask for more images than products so that several images of one product still leave k products.
    k_images = min(len(index), args.k * 4 if to_product else args.k)
    ids, dist = index.query(vectors, k_images)
    cat = _search_catalog(args)
    info = product_info(cat) if cat is not None else None
    results = []
    for path, row_ids, row_d in zip(files, ids, dist):
        hits, seen = [], set()
        for image_id, d in zip(row_ids.tolist(), row_d.tolist()):
            product = to_product.get(str(image_id)) if to_product else None
            key = product if product is not None else image_id
            if key in seen:
                continue
            seen.add(key)
            hits.append({"product_id": product, **describe(info, product), "image_id": image_id,
                         "distance": round(float(d), 6)})
            if len(hits) == args.k:
                break
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
    recorded = _catalog_path(Path(args.index))
    if recorded.is_file():
        spec = json.loads(recorded.read_text())
        return load_catalog(spec["catalog"], spec.get("catalog_format", "auto"), spec.get("image_root"))
    return None


def register(sub) -> None:
    p = sub.add_parser("embed", help="a catalog's images -> an embeddings file (streamed, resumable)",
                       description="Embed the images of a catalog with a saved model into a .npy file with a "
                                   ".json sidecar (ids, products, the model fingerprint). Resumable.")
    p.add_argument("--model", required=True, help="a .keras image model (e.g. artifacts/siamese/model.keras)")
    add_catalog_argument(p)
    p.add_argument("--split", choices=["train", "val", "test"], help="only the products of this split")
    p.add_argument("--source", choices=["shop", "street"], help="only shop or only street images")
    p.add_argument("--out", required=True, help="the embeddings file to write (.npy)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--no-resume", action="store_true", help="start over instead of resuming finished chunks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_embed)

    p = sub.add_parser("index", help="embeddings -> an Annoy index + metadata",
                       description="Build an Annoy index over an embeddings file written by `fashionsim embed`.")
    p.add_argument("embeddings", help="the .npy file written by `fashionsim embed`")
    p.add_argument("--out", required=True, help="the index file to write (.ann; metadata goes beside it)")
    p.add_argument("--metric", choices=["angular", "euclidean"], default="angular")
    p.add_argument("--n-trees", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_index)

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
