"""The ``fashionsim`` command line (also ``python -m fashionsim``).

Each subcommand is a thin wrapper around the functions the notebooks call.
Bad input prints one clear line on stderr and exits with status 2; output
that is data can be printed as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from fashionsim import __version__


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


# Errors that mean "your input is wrong" rather than "fashionsim is broken".
def _input_errors() -> tuple[type[BaseException], ...]:
    from fashionsim.data.catalog import CatalogError

    return (UsageError, CatalogError, ValueError, FileNotFoundError, KeyError, PermissionError, IsADirectoryError)


def _emit(payload, as_json: bool, text: Callable[[object], str]) -> None:
    print(json.dumps(payload, indent=2, default=str) if as_json else text(payload))


# ------------------------------------------------------------------ demo-data
def _cmd_demo_data(args: argparse.Namespace) -> int:
    from fashionsim.data import demo

    out = Path(args.out).expanduser() if args.out else demo.default_demo_root()
    cat = demo.load_demo(out, seed=args.seed)
    info = {
        "root": str(cat.root),
        "products": len(cat.products),
        "images": len(cat.images),
        "users": int(cat.interactions["user_id"].nunique()),
        "interactions": len(cat.interactions),
        "generated": True,
    }
    if args.contact_sheet:
        import matplotlib

        matplotlib.use("Agg")
        demo.contact_sheet(cat, args.contact_sheet)
        info["contact_sheet"] = str(Path(args.contact_sheet).resolve())
    _emit(info, args.json, lambda d: "\n".join(f"{k}: {v}" for k, v in d.items()))
    return 0


def _add_demo_data(sub) -> None:
    p = sub.add_parser("demo-data", help="write (or verify) the generated demo catalog",
                       description="Generate the demo catalog (a generated, not photographed, fashion catalog) "
                                   "into a folder, or verify the one already there against its manifest.")
    p.add_argument("--out", help="folder of the demo catalog (default: $FASHIONSIM_DATA_DIR/demo)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument("--contact-sheet", help="also save a contact sheet of sample products to this PNG")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_demo_data)


# ---------------------------------------------------------------------- bench
def _cmd_bench(args: argparse.Namespace) -> int:
    from fashionsim.bench import runner

    report = runner.run_all(quick=args.quick, only=args.only, progress=not args.json)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(runner.format_table(report))
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="measure speed against the reference approaches",
                       description="Run every benchmark and print one table (median of repeated runs, "
                                   "the reference approach measured in the same run).")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--only", action="append", help="run only this area (repeatable), e.g. triplets")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionsim", description="Visual fashion similarity and recommendation.")
    parser.add_argument("--version", action="version", version=f"fashionsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


_SUBCOMMANDS: list[Callable] = [_add_demo_data, _add_bench]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _input_errors() as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fashionsim {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
