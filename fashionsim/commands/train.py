"""``fashionsim train multilabel|siamese|dvbpr``: the training functions the notebooks call, with presets.

The settings start from a preset of :mod:`fashionsim.presets` (``--preset quick``, the default: a few
minutes to try a catalog; ``--preset demo``: the notebook's own, the model ``fashionsim.artifacts``
retrains) and every option given on the line overrides its field. ``--workers N`` trains on N local
worker processes under ``MultiWorkerMirroredStrategy`` (:mod:`fashionsim.distribute`).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from fashionsim import presets
from fashionsim.commands._common import UsageError, add_catalog_argument, catalog_from_args, emit

#: --preset NAME per model
PRESETS = {
    "multilabel": {"quick": presets.MULTILABEL_QUICK, "demo": presets.MULTILABEL_DEMO},
    "siamese": {"quick": presets.SIAMESE_QUICK, "demo": presets.SIAMESE_DEMO},
    "dvbpr": {"quick": presets.DVBPR_QUICK, "demo": presets.DVBPR_DEMO},
}
#: the selection metric of each siamese route when the preset's route is not the one asked for
_ROUTE_SELECT = {"mined": "val_recall@10", "metadata": "val_color_precision@10"}


def _weights(value: str | None):
    return None if value in (None, "none", "None") else value


def _last(history: dict) -> dict:
    return {k: (v[-1] if isinstance(v, list) and v else v) for k, v in history.items()}


def _select_by(value: str | None) -> str | None:
    """``none`` -> None (keep the last epoch); ``val_recall@K`` (or ``val_clean_recall@K``) as given."""
    return None if value is None or value.lower() == "none" else value


def weights_sha256(model) -> str:
    """SHA-256 of every weight of ``model`` (float32 bytes, in ``get_weights`` order): equal weights, equal hash."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()


def settings(args: argparse.Namespace):
    """The preset named by ``--preset`` with the options given on the line applied."""
    preset = PRESETS[args.model][args.preset]
    given = {"image_size": args.image_size, "epochs": args.epochs, "learning_rate": args.lr, "seed": args.seed}
    if args.weights is not None:
        given["weights"] = _weights(args.weights)
    if args.model == "siamese":
        triplets = args.triplets or preset.triplets
        select_by = (_select_by(args.select_by) if args.select_by is not None
                     else preset.select_by if triplets == preset.triplets else _ROUTE_SELECT[triplets])
        given.update(backbone=args.backbone, triplets_per_epoch=args.triplets_per_epoch, triplets=triplets,
                     select_by=select_by, batch_triplets=None if args.batch_size is None
                     else max(1, args.batch_size // 3))
    elif args.model == "multilabel":
        given.update(backbone=args.backbone, batch_size=args.batch_size)
    else:
        given.update(variant=args.variant, batch_size=args.batch_size,
                     backbone=args.backbone if (args.variant or preset.variant) == "pretrained" else None)
    chosen = preset.replace(**{k: v for k, v in given.items() if v is not None or k == "select_by"})
    if args.model == "dvbpr" and chosen.variant == "pretrained" and chosen.backbone in (None, "small_cnn"):
        raise UsageError("--variant pretrained needs an ImageNet backbone, e.g. --backbone inception_v3")
    return chosen


def run(args: argparse.Namespace) -> int:
    if args.select_by is not None and args.model != "siamese":
        raise UsageError(f"--select-by applies to `train siamese` only, not to `train {args.model}`")
    if args.triplets not in (None, "mined") and args.model != "siamese":
        raise UsageError(f"--triplets applies to `train siamese` only, not to `train {args.model}`")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    chosen = settings(args)
    if args.workers > 1:
        return _launch(args)
    from fashionsim import distribute

    strategy = distribute.strategy_from_environment()   # MultiWorkerMirroredStrategy in a launched worker
    cat = catalog_from_args(args)
    out = Path(args.out)
    common = dict(resume=args.resume, progress=not args.json, **({"strategy": strategy} if strategy else {}))
    if args.model == "multilabel":
        from fashionsim.multilabel import train_multilabel

        result = train_multilabel(cat, out, **chosen.train_kwargs(), **common)
        model = result.model
        summary = {"model": str(out / "model.keras"), "last_epoch": _last(result.history)}
    elif args.model == "siamese":
        from fashionsim.training import save_model, train_siamese

        result = train_siamese(cat, out_dir=out / "run", verbose=0 if args.json else 1, **chosen.train_kwargs(),
                               **common)
        model = result.model
        save_model(model, out / "model.keras")
        summary = {"model": str(out / "model.keras"), "best_epoch": result.best_epoch,
                   "select_by": chosen.select_by, "triplets": chosen.triplets,
                   "collapsed": result.collapsed, "last_epoch": _last(result.history)}
    else:
        from fashionsim.recommend.training import save_dvbpr, train_dvbpr

        result = train_dvbpr(cat, out_dir=out / "run", **chosen.train_kwargs(), **common)
        model = result.model
        save_dvbpr(result, out, cat=cat, config={"variant": chosen.variant, "image_size": chosen.image_size})
        summary = {"model": str(out / "model.keras"), "best_epoch": result.best_epoch,
                   "last_epoch": _last(result.history)}
    summary.update(preset=args.preset, weights_sha256=weights_sha256(model))
    emit(summary, args.json, _text)
    return 0


def _text(d: dict) -> str:
    kept = ""
    if d.get("best_epoch") is not None:
        kept = f" (the weights of epoch {d['best_epoch']}" + (f", best {d['select_by']})" if d.get("select_by")
                                                               else ")")
    lines = [f"saved {d['model']}{kept}"]
    if d.get("workers"):
        lines.append(f"trained on {len(d['workers'])} workers in {d['seconds']:.1f} s, equal weights: "
                     f"{d['equal_weights']}")
    return "\n".join(lines + ["last epoch:"] + [f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}"
                                                for k, v in d["last_epoch"].items()])


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The ``train`` command line one worker runs: these options, one worker, JSON out, ``--out`` left to the launcher."""
    argv = ["train", args.model, "--catalog", args.catalog, "--catalog-format", args.catalog_format,
            "--preset", args.preset, "--json"]
    options = {"--image-root": args.image_root, "--image-size": args.image_size, "--backbone": args.backbone,
               "--weights": args.weights, "--variant": args.variant, "--epochs": args.epochs,
               "--batch-size": args.batch_size, "--triplets-per-epoch": args.triplets_per_epoch,
               "--triplets": args.triplets, "--select-by": args.select_by, "--lr": args.lr, "--seed": args.seed}
    for flag, value in options.items():
        if value is not None:
            argv += [flag, str(value)]
    return argv + (["--resume"] if args.resume else [])


def _launch(args: argparse.Namespace) -> int:
    from fashionsim import distribute

    if args.model != "siamese":
        raise UsageError(f"--workers applies to `train siamese` only for now, not to `train {args.model}`")
    if args.resume:
        raise UsageError("--resume with --workers is not supported: the other workers' checkpoints are removed "
                         "after a run; train again, or resume on one worker")
    run_ = distribute.launch(worker_argv(args), args.workers, out=args.out, timeout=args.timeout)
    summary = dict(run_.chief)
    summary.update(workers=[{"index": w.index, "out": str(w.out), "seconds": round(w.seconds, 2),
                             "weights_sha256": w.summary["weights_sha256"]} for w in run_.workers],
                   seconds=round(run_.seconds, 2), equal_weights=run_.equal_weights)
    emit(summary, args.json, _text)
    return 0 if run_.equal_weights else 1


def register(sub) -> None:
    p = sub.add_parser("train", help="train the multilabel, siamese or DVBPR model",
                       description="Train one of the notebooks' models on a catalog with checkpoints; "
                                   "--resume continues from the last checkpoint in --out. Settings start from "
                                   "--preset (fashionsim.presets) and the options given override them.")
    p.add_argument("model", choices=["multilabel", "siamese", "dvbpr"])
    add_catalog_argument(p)
    p.add_argument("--out", required=True, help="output folder (model.keras, checkpoints, history)")
    p.add_argument("--preset", choices=["quick", "demo"], default="quick",
                   help="starting settings: 'quick' (default; 5 epochs, 48 px) or 'demo' (the notebook's: 01 "
                        "multilabel, 03 siamese, 04 DVBPR CNN)")
    p.add_argument("--image-size", type=int, default=None, help="input image side in pixels (quick: 48)")
    p.add_argument("--backbone", default=None,
                   help="inception_v3, resnet50, efficientnet_b0, mobilenet_v2, densenet121, or small_cnn "
                        "(siamese only; quick's) — the multilabel model needs an ImageNet backbone")
    p.add_argument("--weights", default=None, help="'imagenet' (needs a network), a weights file, or none (presets)")
    p.add_argument("--variant", choices=["cnn", "autoencoder", "pretrained"], default=None,
                   help="DVBPR image encoder (dvbpr only; presets: cnn)")
    p.add_argument("--epochs", type=int, default=None, help="quick: 5")
    p.add_argument("--batch-size", type=int, default=None,
                   help="images per batch (siamese: 3 per triplet; quick: 42)")
    p.add_argument("--triplets-per-epoch", type=int, default=None, help="siamese only (presets: 504)")
    p.add_argument("--triplets", choices=["mined", "metadata"], default=None,
                   help="siamese only: 'mined' (street/shop pairs, semi-hard negatives; presets) or 'metadata' "
                        "(triplets from category and colour, for catalogs of shop photos only)")
    p.add_argument("--select-by", default=None, metavar="none|val_recall@K",
                   help="siamese only: keep the epoch with the best validation metric (default val_recall@10 "
                        "with mined triplets, val_color_precision@10 with metadata ones; also val_clean_recall@K, "
                        "val_category_precision@K), or 'none' to keep the last epoch")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (quick: 1e-3 multilabel, 1e-4 siamese, 1e-2 dvbpr)")
    p.add_argument("--seed", type=int, default=None, help="presets: 0")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--workers", type=int, default=1,
                   help="siamese only: train on N local worker processes (127.0.0.1, MultiWorkerMirroredStrategy); "
                        "the first (chief) writes --out, the others temporary folders removed at the end")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="with --workers: seconds before every worker is stopped (default 3600)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
