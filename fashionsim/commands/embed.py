"""``fashionsim embed`` and ``index``: a model's embeddings of a catalog, then an Annoy index over them."""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from pathlib import Path

from fashionsim.commands._common import (
    UsageError, add_catalog_argument, catalog_from_args, emit, model_input_size, require_positive,
)
from fashionsim.commands._index_files import (
    build_in_memory_too_large, catalog_spec, on_disk_build_file, write_index_sidecars,
)


# ---------------------------------------------------------------------- embed
def _shard_option(text: str | None) -> tuple[int, int] | None:
    from fashionsim.shards import parse_shard

    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_embed(args: argparse.Namespace) -> int:
    from fashionsim.embed import embed_to_file
    from fashionsim.models.io import load_model
    from fashionsim.shards import ids_digest, shard_bounds

    require_positive(args.batch_size, "--batch-size", 64)   # checked before any file is written
    shard = _shard_option(args.shard)
    model = load_model(args.model)
    cat = catalog_from_args(args)
    table = cat.images
    if args.split:
        table = table[table["product_id"].isin(cat.products.loc[cat.products["split"] == args.split, "product_id"])]
    if args.source:
        table = table[table["source"] == args.source]
    if table.empty:
        raise UsageError(f"no images of split={args.split!r} source={args.source!r} in catalog {args.catalog}")
    ids, products = table["image_id"].tolist(), table["product_id"].tolist()
    extra = {"catalog": str(cat.root), "catalog_spec": catalog_spec(args), "model": str(Path(args.model).resolve())}
    if shard is not None:
        k, n_shards = shard
        if len(ids) < n_shards:
            raise UsageError(f"--shard {k}/{n_shards}: the selection has only {len(ids)} images, fewer than "
                             f"{n_shards} shards (use at most --shard K/{len(ids)})")
        start, stop = shard_bounds(len(ids), k, n_shards)
        extra.update(shard=f"{k}/{n_shards}", first_row=start, n_total=len(ids), ids_digest=ids_digest(ids))
        ids, products = ids[start:stop], products[start:stop]
    out = embed_to_file(model, cat.image_paths(ids), ids, args.out, model_input_size(model),
                        batch_size=args.batch_size, resume=not args.no_resume, progress=not args.json,
                        extra={"products": products, **extra})
    meta = json.loads(out.with_suffix(".json").read_text())
    payload = {"embeddings": str(out), "n": len(ids), "dim": meta["dim"], "fingerprint": meta["fingerprint"]}
    if shard is not None:
        payload.update(shard=meta["shard"], first_row=meta["first_row"], n_total=meta["n_total"])
    emit(payload, args.json,
         lambda d: f"wrote {d['n']} embeddings of dimension {d['dim']} to {d['embeddings']} (model {d['fingerprint']}"
                   + (f", shard {d['shard']} of {d['n_total']} images)" if "shard" in d else ")"))
    return 0


# ---------------------------------------------------------------------- index
def run_index(args: argparse.Namespace) -> int:
    from fashionsim.index import EmbeddingIndex
    from fashionsim.shards import check_shards, iter_blocks

    require_positive(args.n_trees, "--n-trees", 50)
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed} (e.g. --seed 0)")
    shards = check_shards(args.embeddings)
    out = Path(args.out)
    on_disk = args.on_disk or build_in_memory_too_large(shards.n, shards.dim, args.n_trees)
    with on_disk_build_file(out, shards.n, shards.dim, args.n_trees) if on_disk else nullcontext() as disk:
        index = EmbeddingIndex.build_from_chunks(iter_blocks(shards), dim=shards.dim, metric=args.metric,
                                                 n_trees=args.n_trees, seed=args.seed,
                                                 fingerprint=shards.fingerprint, on_disk=disk)
        out = index.save(out)
        del index
    write_index_sidecars(out, shards.ids, shards.products, shards.meta.get("catalog_spec"))
    emit({"index": str(out), "n": shards.n, "dim": shards.dim, "metric": args.metric, "n_trees": args.n_trees,
          "fingerprint": shards.fingerprint, "shards": len(shards.shards), "on_disk": bool(on_disk)}, args.json,
         lambda d: f"indexed {d['n']} vectors from {d['shards']} file(s) ({d['metric']}, {d['n_trees']} trees"
                   f"{', built on disk' if d['on_disk'] else ''}) into {d['index']}")
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
    p.add_argument("--shard", metavar="K/N", default=None,
                   help="embed only share K of N (contiguous rows of the selection in catalog order); "
                        "`fashionsim index` merges the N shard files")
    p.add_argument("--no-resume", action="store_true", help="start over instead of resuming finished chunks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_embed)

    p = sub.add_parser("index", help="embeddings (one file or every shard) -> an Annoy index + metadata",
                       description="Build one Annoy index over the embeddings files written by `fashionsim embed`: "
                                   "one file, or every shard of `embed --shard K/N` (checked: same model, "
                                   "disjoint, complete, one dimension). Streamed shard by shard; built on disk "
                                   "with --on-disk, or automatically when the forest would not fit in memory.")
    p.add_argument("embeddings", nargs="+", help="the .npy file(s) written by `fashionsim embed` (all N shards)")
    p.add_argument("--out", required=True, help="the index file to write (.ann; metadata goes beside it)")
    p.add_argument("--metric", choices=["angular", "euclidean"], default="angular")
    p.add_argument("--n-trees", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--on-disk", action="store_true",
                   help="build the forest in a file beside --out instead of memory (Annoy's on_disk_build)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_index)
