"""``fashionsim demo-data``: write or verify the generated demo catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashionsim.commands._common import emit


def run(args: argparse.Namespace) -> int:
    from fashionsim.data import demo

    out = Path(args.out).expanduser() if args.out else demo.default_demo_root()
    cat = demo.load_demo(out, seed=args.seed, verify=True)
    info = {"root": str(cat.root), "products": len(cat.products), "images": len(cat.images),
            "users": int(cat.interactions["user_id"].nunique()), "interactions": len(cat.interactions)}
    if args.contact_sheet:
        import matplotlib

        matplotlib.use("Agg")
        from fashionsim import plots

        plots.contact_sheet(cat, args.contact_sheet)
        info["contact_sheet"] = str(Path(args.contact_sheet).resolve())
    if args.path:   # just the folder, for scripts: "$(fashionsim demo-data --path)/images/p0003_street0.png"
        print(info["root"])
        return 0
    emit(info, args.json, lambda d: "demo catalog (generated, not photographs)\n"
         + "\n".join(f"  {k}: {v}" for k, v in d.items()))
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo-data", help="write (or verify) the generated demo catalog",
                       description="Generate the demo catalog (a generated, not photographed, fashion catalog) "
                                   "into a folder, or verify the one already there against its manifest.")
    p.add_argument("--out", help="folder of the demo catalog (default: $FASHIONSIM_DATA_DIR/demo, else the user cache dir, "
                                       "e.g. ~/.cache/fashionsim/demo)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument("--contact-sheet", help="also save a contact sheet of sample products to this PNG")
    p.add_argument("--path", action="store_true", help="print only the demo catalog's folder (for scripts)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)
