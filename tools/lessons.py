"""Measure every notebook's asserted lessons over seeds: the table behind docs/lessons.md.

Each seed runs the five notebooks' ``.py`` twins top to bottom as plain
scripts (Agg backend), in a folder of its own so that notebook 05 reads the
models notebooks 01, 03 and 04 trained with that seed. ``FASHIONSIM_SEED``
sets the notebooks' seed; every ``Lessons.check`` / ``Lessons.measure`` of a
run is appended to ``FASHIONSIM_LESSONS_OUT``. For every lesson the table
gives min / median / max of the measured value, the threshold, the smallest
margin and how many seeds it held for; for every notebook the CPU seconds
and peak memory of its process.

    .venv/bin/python tools/lessons.py                      # seeds 0-4, 2 seeds at a time, writes docs/
    .venv/bin/python tools/lessons.py --seeds 0 --notebooks 03 --out /tmp/l

Run it after changing a notebook's training or its lessons; commit docs/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": "-1",
       "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def _drop(path: Path, notebook: str) -> None:
    """Remove ``notebook``'s lines from a JSON-lines file (before that notebook runs again)."""
    if path.exists():
        kept = [line for line in path.read_text().splitlines() if json.loads(line)["notebook"] != notebook]
        path.write_text("".join(line + "\n" for line in kept))


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_seed(seed: int, names: list[str], work: Path, timeout: float, keep: bool = False) -> dict:
    """Run the notebooks for one seed; returns the records and the per-notebook resources.

    ``keep``: keep the seed's folder (its models and earlier records) and re-run only ``names``.
    """
    folder = work / f"seed{seed}"
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    out = folder / "lessons.jsonl"
    runs_file = folder / "runs.jsonl"
    env = {**os.environ, **ENV, "FASHIONSIM_SEED": str(seed), "FASHIONSIM_LESSONS_OUT": str(out)}
    env.setdefault("FASHIONSIM_DATA_DIR", str(ROOT / "data"))
    for name in names:
        _drop(out, name)
        _drop(runs_file, name)
        script = folder / "notebooks" / f"{name}.py"
        shutil.copy2(NOTEBOOKS / f"{name}.py", script)
        log = folder / f"{name}.log"
        tic = time.perf_counter()
        with open(log, "w") as fh:
            proc = subprocess.Popen([sys.executable, script.name], cwd=script.parent, env=env, stdout=fh,
                                    stderr=subprocess.STDOUT)
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
        run = {"notebook": name, "seed": seed, "rc": proc.returncode, "wall_s": time.perf_counter() - tic,
               "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}
        with open(runs_file, "a") as fh:
            fh.write(json.dumps(run) + "\n")
        print(f"seed {seed} {name}: rc {proc.returncode}, {run['cpu_s']:.0f} CPU s, "
              f"{run['wall_s']:.0f} s wall, peak {run['peak_rss_mib']:.0f} MiB", flush=True)
        if proc.returncode != 0:
            print(f"  see {log}:\n" + "".join(open(log).readlines()[-15:]), flush=True)
    order = {n: i for i, n in enumerate(sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")))}
    return {"records": _read(out), "runs": sorted(_read(runs_file), key=lambda r: order.get(r["notebook"], 99))}


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.0f}"


def table(results: list[dict], seeds: list[int]) -> tuple[str, dict]:
    """The markdown tables and their data."""
    records = [r for res in results for r in res["records"]]
    runs = [r for res in results for r in res["runs"]]
    keys: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        keys.setdefault((r["notebook"], r["name"]), []).append(r)
    rows, data = [], []
    for (nb, name), recs in keys.items():
        values = [r["value"] for r in recs]
        row = {"notebook": nb, "lesson": name, "kind": recs[0]["kind"], "seeds": [r["seed"] for r in recs],
               "min": min(values), "median": statistics.median(values), "max": max(values)}
        if recs[0]["kind"] == "check":
            thresholds = [r["threshold"] for r in recs]
            row.update(op=recs[0]["op"], threshold_min=min(thresholds), threshold_max=max(thresholds),
                       min_margin=min(r["margin"] for r in recs), held=sum(r["holds"] for r in recs))
        data.append(row)
        if row["kind"] == "check":
            th = _fmt(row["threshold_min"]) if row["threshold_min"] == row["threshold_max"] else \
                f"{_fmt(row['threshold_min'])} – {_fmt(row['threshold_max'])}"
            rows.append(f"| {nb} | {name} | {_fmt(row['min'])} | {_fmt(row['median'])} | {_fmt(row['max'])} | "
                        f"{row['op']} {th} | {_fmt(row['min_margin'])} | {row['held']} of {len(recs)} |")
        else:
            rows.append(f"| {nb} | {name} (shown, not asserted) | {_fmt(row['min'])} | {_fmt(row['median'])} | "
                        f"{_fmt(row['max'])} | — | — | — |")
    lines = ["| notebook | lesson | min | median | max | threshold | smallest margin | held |",
             "|---|---|---|---|---|---|---|---|", *rows, "",
             "| notebook | CPU s (min – max) | wall s (min – max) | peak memory MiB (max) | runs ok |",
             "|---|---|---|---|---|"]
    by_nb: dict[str, list[dict]] = {}
    for r in runs:
        by_nb.setdefault(r["notebook"], []).append(r)
    for nb, rs in by_nb.items():
        lines.append(f"| {nb} | {min(r['cpu_s'] for r in rs):.0f} – {max(r['cpu_s'] for r in rs):.0f} | "
                     f"{min(r['wall_s'] for r in rs):.0f} – {max(r['wall_s'] for r in rs):.0f} | "
                     f"{max(r['peak_rss_mib'] for r in rs):.0f} | {sum(r['rc'] == 0 for r in rs)} of {len(rs)} |")
    return "\n".join(lines), {"seeds": seeds, "lessons": data, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,2,3 (default 0-4)")
    parser.add_argument("--notebooks", nargs="*", help="name prefixes, e.g. 03 04 (default: all; 05 needs 01, 03, 04)")
    parser.add_argument("--jobs", type=int, default=2, help="seeds run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per notebook run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where lessons.md and lessons.json go")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--aggregate", action="store_true",
                        help="run nothing: table the records kept in --work for --seeds")
    parser.add_argument("--keep", action="store_true",
                        help="keep each seed's folder in --work and re-run only --notebooks there (a notebook that "
                             "reads others' models, like 05, then reads the kept ones); the table covers all kept records")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    names = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if args.notebooks:
        names = [n for n in names if any(n.startswith(p) for p in args.notebooks)]
    work = args.work or Path(tempfile.mkdtemp(prefix="fashionsim-lessons-"))
    tic = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda s: run_seed(s, [] if args.aggregate else names, work, args.timeout,
                                                   args.keep or args.aggregate), seeds))
    text, data = table(results, seeds)
    data.update(machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                jobs=args.jobs, total_wall_s=time.perf_counter() - tic)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lessons.json").write_text(json.dumps(data, indent=1) + "\n")
    header = (ROOT / "docs" / "lessons_header.md").read_text()
    when = time.strftime("%Y-%m-%d")
    (args.out / "lessons.md").write_text(
        f"{header.rstrip()}\n\n## The table ({when}, seeds {args.seeds}, {data['machine']}, {args.jobs} seeds at a "
        f"time, {data['total_wall_s'] / 60:.0f} min in all)\n\nGenerated by `tools/lessons.py`; the records are in "
        f"`lessons.json`.\n\n{text}\n")
    print(text)
    failed = [row for row in data["lessons"] if row["kind"] == "check" and row["held"] < len(row["seeds"])]
    failed_runs = [r for r in data["runs"] if r["rc"] != 0]
    print(f"\n{len(failed)} lesson(s) failed for some seed; {len(failed_runs)} notebook run(s) failed; "
          f"{data['total_wall_s']:.0f} s in all; work folder {work}")
    return 1 if failed or failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
