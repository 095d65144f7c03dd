"""``fashionsim bench``: the benchmark suite in one table."""

from __future__ import annotations

import argparse

from fashionsim.commands._common import dumps


def run(args: argparse.Namespace) -> int:
    from fashionsim.bench import runner

    report = runner.run_all(quick=args.quick, only=args.only, progress=not args.json)
    print(dumps(report) if args.json else runner.format_table(report))   # strict JSON: no NaN, no Infinity
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure speed against the reference approaches",
                       description="Run every benchmark and print one table (median of repeated runs, "
                                   "the reference approach measured in the same run).")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--only", action="append", help="run only this area (repeatable), e.g. triplets")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
