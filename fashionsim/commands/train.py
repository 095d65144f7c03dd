"""``fashionsim train multilabel|siamese|dvbpr``: the training functions the notebooks call."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashionsim.commands._common import UsageError, add_catalog_argument, catalog_from_args, emit


def _weights(value: str | None):
    return None if value in (None, "none", "None") else value


def _last(history: dict) -> dict:
    return {k: (v[-1] if isinstance(v, list) and v else v) for k, v in history.items()}


def _select_by(value: str | None) -> str | None:
    """``none`` -> None (keep the last epoch); ``val_recall@K`` (or ``val_clean_recall@K``) as given."""
    return None if value is None or value.lower() == "none" else value


def run(args: argparse.Namespace) -> int:
    if args.select_by is not None and args.model != "siamese":
        raise UsageError(f"--select-by applies to `train siamese` only, not to `train {args.model}`")
    if args.triplets != "mined" and args.model != "siamese":
        raise UsageError(f"--triplets applies to `train siamese` only, not to `train {args.model}`")
    default_select = "val_recall@10" if args.triplets == "mined" else "val_color_precision@10"
    cat = catalog_from_args(args)
    out = Path(args.out)
    common = dict(epochs=args.epochs, seed=args.seed, resume=args.resume, progress=not args.json)
    if args.model == "multilabel":
        from fashionsim.multilabel import train_multilabel

        result = train_multilabel(cat, out, backbone=args.backbone, input_size=args.image_size,
                                  weights=_weights(args.weights), batch_size=args.batch_size,
                                  learning_rate=args.lr or 1e-3, **common)
        summary = {"model": str(out / "model.keras"), "last_epoch": _last(result.history)}
    elif args.model == "siamese":
        from fashionsim.training import save_model, train_siamese

        result = train_siamese(cat, backbone=args.backbone, input_size=args.image_size,
                               weights=_weights(args.weights), batch_triplets=max(1, args.batch_size // 3),
                               learning_rate=args.lr or 1e-4, triplets_per_epoch=args.triplets_per_epoch,
                               out_dir=out / "run", select_by=_select_by(args.select_by or default_select),
                               triplets=args.triplets, verbose=0 if args.json else 1,
                               **common)
        save_model(result.model, out / "model.keras")
        summary = {"model": str(out / "model.keras"), "best_epoch": result.best_epoch,
                   "select_by": _select_by(args.select_by or default_select), "triplets": args.triplets,
                   "collapsed": result.collapsed, "last_epoch": _last(result.history)}
    elif args.model == "dvbpr":
        from fashionsim.recommend.training import save_dvbpr, train_dvbpr

        if args.variant == "pretrained" and args.backbone == "small_cnn":
            raise UsageError("--variant pretrained needs an ImageNet backbone, e.g. --backbone inception_v3")
        result = train_dvbpr(cat, variant=args.variant, image_size=args.image_size, batch_size=args.batch_size,
                             out_dir=out / "run", learning_rate=args.lr or 1e-2, weights=_weights(args.weights),
                             **({"backbone": args.backbone} if args.variant == "pretrained" else {}), **common)
        save_dvbpr(result, out, cat=cat, config={"variant": args.variant, "image_size": args.image_size})
        summary = {"model": str(out / "model.keras"), "best_epoch": result.best_epoch,
                   "last_epoch": _last(result.history)}
    else:  # pragma: no cover - argparse restricts the choices
        raise UsageError(f"unknown model {args.model!r}")
    def text(d):
        kept = ""
        if d.get("best_epoch") is not None:
            kept = f" (the weights of epoch {d['best_epoch']}" + (f", best {d['select_by']})" if d.get("select_by")
                                                                   else ")")
        return f"saved {d['model']}{kept}\nlast epoch:\n" + "\n".join(
            f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}" for k, v in d["last_epoch"].items())

    emit(summary, args.json, text)
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train the multilabel, siamese or DVBPR model",
                       description="Train one of the notebooks' models on a catalog with checkpoints; "
                                   "--resume continues from the last checkpoint in --out.")
    p.add_argument("model", choices=["multilabel", "siamese", "dvbpr"])
    add_catalog_argument(p)
    p.add_argument("--out", required=True, help="output folder (model.keras, checkpoints, history)")
    p.add_argument("--image-size", type=int, default=48, help="input image side in pixels (default 48)")
    p.add_argument("--backbone", default="small_cnn",
                   help="inception_v3, resnet50, efficientnet_b0, mobilenet_v2, densenet121, or small_cnn "
                        "(siamese only; default) — the multilabel model needs an ImageNet backbone")
    p.add_argument("--weights", default=None, help="'imagenet' (needs a network), a weights file, or none (default)")
    p.add_argument("--variant", choices=["cnn", "autoencoder", "pretrained"], default="cnn",
                   help="DVBPR image encoder (dvbpr only)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=42, help="images per batch (siamese: 3 per triplet)")
    p.add_argument("--triplets-per-epoch", type=int, default=504, help="siamese only")
    p.add_argument("--triplets", choices=["mined", "metadata"], default="mined",
                   help="siamese only: 'mined' (street/shop pairs, semi-hard negatives; default) or 'metadata' "
                        "(triplets from category and colour, for catalogs of shop photos only)")
    p.add_argument("--select-by", default=None, metavar="none|val_recall@K",
                   help="siamese only: keep the epoch with the best validation metric (default val_recall@10 "
                        "with mined triplets, val_color_precision@10 with metadata ones; also val_clean_recall@K, "
                        "val_category_precision@K), or 'none' to keep the last epoch")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's own)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
