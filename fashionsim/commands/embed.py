"""``fashionsim embed`` and ``index``: a model's embeddings of a catalog, then an Annoy index over them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fashionsim.commands._common import UsageError, add_catalog_argument, catalog_from_args, emit, model_input_size, require_positive
from fashionsim.commands._index_files import catalog_path, catalog_spec, products_path


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
                               "catalog_spec": catalog_spec(args),
                               "model": str(Path(args.model).resolve())})
    meta = json.loads(out.with_suffix(".json").read_text())
    emit({"embeddings": str(out), "n": len(ids), "dim": meta["dim"], "fingerprint": meta["fingerprint"]},
         args.json, lambda d: f"wrote {d['n']} embeddings of dimension {d['dim']} to {d['embeddings']} "
                              f"(model {d['fingerprint']})")
    return 0


# ---------------------------------------------------------------------- index
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
        write_text_atomic(products_path(out), json.dumps(dict(zip(map(str, ids), products))))
    if meta.get("catalog_spec"):
        write_text_atomic(catalog_path(out), json.dumps(meta["catalog_spec"]))
    emit({"index": str(out), "n": len(ids), "dim": index.dim, "metric": args.metric, "n_trees": args.n_trees,
          "fingerprint": meta["fingerprint"]}, args.json,
         lambda d: f"indexed {d['n']} vectors ({d['metric']}, {d['n_trees']} trees) into {d['index']}")
    return 0


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
