"""``fashionsim evaluate``: a catalog + models -> a JSON report and the figures of notebook 05."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashionsim.commands._common import UsageError, add_catalog_argument, catalog_from_args, dumps, emit


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from fashionsim import artifacts, evaluation, plots
    from fashionsim._io import atomic_path, write_text_atomic
    from fashionsim.models.io import load_model

    cat = catalog_from_args(args)
    models = {}
    if args.siamese:
        models["triplet-trained"] = load_model(args.siamese)
        models["untrained"] = artifacts.untrained_like(models["triplet-trained"], seed=args.seed)
    if args.multilabel:
        models["multilabel vectors"] = artifacts.multilabel_vector_model(args.multilabel, cat, retrain=False)
    if not models and not args.dvbpr:
        raise UsageError("give at least one model: --siamese, --multilabel or --dvbpr")
    reports = {}
    for name, model in models.items():
        vectors, ids = evaluation.embed_split(model, cat, None, progress=not args.json)
        reports[name] = evaluation.evaluate_representation(vectors, ids, cat, args.split, far_bound=args.far_bound)
    out = Path(args.out)
    report = {"catalog": str(cat.root), "split": args.split, "representations": {}}
    for name, r in reports.items():
        keep = [k for k in ("retrieval", "clean", "verification", "matching") if k in r]
        report["representations"][name] = _plain({k: r[k] for k in keep})
    if args.dvbpr:
        table = artifacts.dvbpr_test_report(artifacts.dvbpr_model(args.dvbpr, cat, retrain=False), cat)
        report["recommendation_auc"] = _plain(table["AUC"].to_dict())
    figures = {}
    if reports:
        figures["recall_at_k.png"] = plots.recall_curves(reports).figure
        best = "triplet-trained" if "triplet-trained" in reports else next(iter(reports))
        figures["val_far.png"] = plots.val_far(reports[best]).figure
    for name, fig in figures.items():
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, dpi=110, format="png", bbox_inches="tight")
    report["figures"] = [str((out / name).resolve()) for name in figures]
    report["report"] = str((out / "report.json").resolve())
    write_text_atomic(out / "report.json", dumps(report))

    def text(d):
        lines = [f"wrote {d['report']}"] + [f"wrote {path}" for path in d["figures"]]
        for name, r in d["representations"].items():
            rec = r["retrieval"]["recall"]
            v = r["verification"]
            lines.append(f"  {name:>20}: recall@1 {rec['1']:.3f}  recall@10 {rec['10']:.3f}  "
                         f"VAL {v['val']:.3f} at FAR {v['far']:.3f}")
        for name, value in d.get("recommendation_auc", {}).items():
            lines.append(f"  {name:>20}: AUC " + ("n/a" if value is None or value != value else f"{value:.3f}"))
        return "\n".join(lines)

    emit(report, args.json, text)
    return 0


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="a catalog + models -> a JSON report and figures",
                       description="Evaluate saved models on a catalog split as notebook 05 does: recall@K, "
                                   "VAL/FAR with the best threshold under a FAR bound, the matching test, AUC.")
    add_catalog_argument(p)
    p.add_argument("--siamese", help="a .keras embedding model (also evaluated untrained, for contrast)")
    p.add_argument("--multilabel", help="the folder train_multilabel wrote")
    p.add_argument("--dvbpr", help="the folder train_dvbpr/save_dvbpr wrote")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    p.add_argument("--far-bound", type=float, default=0.20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for report.json and the figures")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.set_defaults(func=run)
