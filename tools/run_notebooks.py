"""Sync and execute the paired notebooks.

    python tools/run_notebooks.py notebooks/03_siamese_semihard.py      # in place
    python tools/run_notebooks.py --out output/notebooks                # all, into a folder

For every notebook: the ``.py`` twin (the source you edit) is written into
the ``.ipynb`` with jupytext, then the notebook is executed top to bottom by
nbclient (the machinery nbval uses) in a kernel started with TensorFlow's
start-up logs silenced, and saved with its outputs. With ``--out``, every
figure of every notebook is also written as a PNG to ``<out>/figures/<notebook>-NN.png``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "CUDA_VISIBLE_DEVICES": "-1",
    "KERAS_BACKEND": "tensorflow",
    "PYTHONHASHSEED": "0",
    "TQDM_DISABLE": "1",
}


# TensorFlow's C++ start-up lines, printed before absl logging is initialised
# (so TF_CPP_MIN_LOG_LEVEL cannot silence them). nbclient's kernel captures
# them as stderr, nbval's does not; they carry timestamps and pids anyway.
_STARTUP_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\] .*)$"
)


def drop_startup_logs(nb) -> None:
    """Remove TensorFlow start-up lines from the stderr outputs of ``nb`` (in place)."""
    for cell in nb.cells:
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = [ln for ln in output["text"].splitlines(keepends=True) if not _STARTUP_LINE.match(ln.rstrip("\n"))]
                if not "".join(lines).strip():
                    continue
                output["text"] = "".join(lines)
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept


def export_figures(nb, folder: Path, stem: str) -> int:
    """Write every PNG output of ``nb`` to ``folder/<stem>-<k>.png``; return how many."""
    import base64

    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                count += 1
                (folder / f"{stem}-{count:02d}.png").write_bytes(base64.b64decode(png))
    return count


def run(sources: list[Path], out: Path | None, timeout: int) -> int:
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    for key, value in KERNEL_ENV.items():
        os.environ.setdefault(key, value)
    failures = 0
    for src in sources:
        failed = False
        py = src.with_suffix(".py")
        ipynb = src.with_suffix(".ipynb")
        nb = jupytext.read(py)
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        target = ipynb if out is None else out / ipynb.name
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(py.parent)}})
        try:
            client.execute()
        except Exception as exc:  # report and go on to the next notebook
            failures += 1
            failed = True
            print(f"FAILED {py}: {type(exc).__name__}: {str(exc).splitlines()[-1] if str(exc) else ''}",
                  file=sys.stderr)
        drop_startup_logs(nb)
        nbformat.write(nb, target)
        if out is None:
            jupytext.write(nb, py, fmt="py:percent")   # keep the twin byte-for-byte what jupytext writes
        else:
            export_figures(nb, out / "figures", py.stem)
        print(f"{'wrote (failed)' if failed else 'executed'} {target} in {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (.py or .ipynb); default: all")
    parser.add_argument("--out", type=Path, default=None, help="write executed copies here instead of in place")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    sources = args.notebooks or sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))
    if not sources:
        print("no notebooks in notebooks/ yet")
        return 0
    return run(sources, args.out, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
