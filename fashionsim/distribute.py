"""Train on several local worker processes with TensorFlow's ``MultiWorkerMirroredStrategy``.

:func:`launch` starts N copies of a ``fashionsim train`` command line on this machine, each with
its own ``TF_CONFIG`` (a cluster of N workers on 127.0.0.1, ports the system said were free), waits
for them within a time limit, and stops all of them as soon as one fails or the time is up. In each
worker, :func:`strategy_from_environment` reads ``TF_CONFIG`` and builds the strategy, which keeps
the workers' weights in sync step by step (gradients all-reduced across them).

Where they write: worker 0 (the *chief*) writes the real ``--out``; every other worker writes its
checkpoints and model into its own folder ``<out>/.workers/worker-<i>``, removed when all succeed
(as TensorFlow's multi-worker guide recommends: all workers run the same saving code, so none
blocks on a collective, and no two write one file). Each worker reports the SHA-256 of its final
weights; they must be equal.

The command line (both forms run the same code)::

    fashionsim train siamese --catalog demo --out runs/siamese --workers 2
    python -m fashionsim.distribute --workers 2 --out runs/siamese -- train siamese --catalog demo

>>> tf_config(["127.0.0.1:5001", "127.0.0.1:5002"], 1)
{'cluster': {'worker': ['127.0.0.1:5001', '127.0.0.1:5002']}, 'task': {'type': 'worker', 'index': 1}}
>>> worker_out("runs/siamese", 0), worker_out("runs/siamese", 1)
(PosixPath('runs/siamese'), PosixPath('runs/siamese/.workers/worker-1'))
>>> ports = free_ports(2)
>>> len(set(ports)) == 2 and all(0 < p < 65536 for p in ports)
True
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["WorkerError", "WorkerRun", "ClusterRun", "free_ports", "tf_config", "worker_out", "launch",
           "strategy_from_environment", "main"]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
WORKERS_DIR = ".workers"
#: seconds a worker gets to stop after SIGTERM before it is killed
_GRACE = 5.0


class WorkerError(RuntimeError):
    """A worker failed, or the workers did not finish in time; every worker has been stopped."""


@dataclasses.dataclass
class WorkerRun:
    """One finished worker: its index, output folder, exit code, wall seconds and JSON summary."""

    index: int
    out: Path
    returncode: int
    seconds: float
    summary: dict


@dataclasses.dataclass
class ClusterRun:
    """All workers of one :func:`launch`; ``chief`` is worker 0's summary."""

    workers: list[WorkerRun]
    seconds: float

    @property
    def chief(self) -> dict:
        return self.workers[0].summary

    @property
    def equal_weights(self) -> bool:
        """Whether every worker ended with the same weights (their ``weights_sha256``)."""
        return len({w.summary.get("weights_sha256") for w in self.workers}) == 1


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports on 127.0.0.1 that the system reports free (bound to port 0 together, then released).

    A port could be taken again between this call and the worker binding it; on a test machine that
    race is rare, and a worker that cannot bind fails at start, which :func:`launch` reports.
    """
    sockets = []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(addresses: Sequence[str], index: int) -> dict:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``addresses`` ("host:port")."""
    if not 0 <= index < len(addresses):
        raise ValueError(f"index must be in [0, {len(addresses)}), got {index}")
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": int(index)}}


def worker_out(out: str | os.PathLike, index: int) -> Path:
    """Worker ``index``'s output folder: ``out`` for the chief (0), ``out/.workers/worker-<index>`` for the others."""
    out = Path(out)
    return out if index == 0 else out / WORKERS_DIR / f"worker-{index}"


def strategy_from_environment():
    """``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names a cluster of several workers, else None.

    Call it before any other TensorFlow operation of the process (collective ops are configured at
    start-up).
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
        n_workers = len(config["cluster"]["worker"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"TF_CONFIG is not a cluster spec with a 'worker' list: {raw[:200]!r}") from None
    if n_workers < 2:
        return None
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


def _stop(processes: list[subprocess.Popen]) -> None:
    """Terminate every process still running, then kill those still alive after the grace period."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + _GRACE
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the worker gets SIGKILL if the launcher dies, so no worker outlives it waiting on a peer."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated(f"the launcher received signal {signum}")


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].replace(" (run again with --verbose for the traceback)", "") if lines else "(nothing on stderr)"


def launch(argv: Sequence[str], n_workers: int, *, out: str | os.PathLike, timeout: float = 3600.0,
           python: str = sys.executable, poll: float = 0.2) -> ClusterRun:
    """Run ``python -m fashionsim <argv> --out <worker_out(out, i)>`` as ``n_workers`` workers; see the module.

    ``argv``: a ``fashionsim`` command line that prints a JSON summary with ``weights_sha256``
    (``train siamese ... --json``). Returns a :class:`ClusterRun` once every worker exited 0; raises
    :class:`WorkerError` (naming the worker and its last stderr line) when one fails, and when
    ``timeout`` seconds pass — in both cases after stopping every worker.
    """
    n_workers = int(n_workers)
    if n_workers < 2:
        raise ValueError(f"n_workers must be >= 2, got {n_workers}")
    if "--out" in argv or "--workers" in argv:
        raise ValueError("argv must not hold --out or --workers: the launcher sets each worker's --out")
    addresses = [f"{HOST}:{port}" for port in free_ports(n_workers)]
    logs = Path(tempfile.mkdtemp(prefix="fashionsim-workers-"))
    processes, handles, started = [], [], time.monotonic()
    import signal
    import threading

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
    try:
        for i in range(n_workers):
            env = {**os.environ, "TF_CONFIG": json.dumps(tf_config(addresses, i))}
            stdout, stderr = open(logs / f"{i}.out", "w"), open(logs / f"{i}.err", "w")
            handles += [stdout, stderr]
            command = [python, "-m", "fashionsim", *argv, "--out", str(worker_out(out, i))]
            processes.append(subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr,
                                              stdin=subprocess.DEVNULL,
                                              preexec_fn=_die_with_parent if sys.platform == "linux" else None))
        logger.info("started %d workers on %s", n_workers, ", ".join(addresses))
        ended: dict[int, float] = {}
        while len(ended) < n_workers:
            for i, p in enumerate(processes):
                if i not in ended and p.poll() is not None:
                    ended[i] = time.monotonic() - started
                    if p.returncode != 0:
                        _stop(processes)
                        raise WorkerError(f"worker {i} of {n_workers} exited with status {p.returncode}: "
                                          f"{_last_line(logs / f'{i}.err')}")
            if time.monotonic() - started > timeout:
                _stop(processes)
                raise WorkerError(f"the {n_workers} workers did not finish within {timeout:g} s; all stopped "
                                  f"(still running: {sorted(set(range(n_workers)) - set(ended))})")
            time.sleep(poll)
        runs = []
        for i, p in enumerate(processes):
            text = (logs / f"{i}.out").read_text()
            try:
                summary = json.loads(text)
            except ValueError:
                raise WorkerError(f"worker {i} printed no JSON summary: {text[-200:]!r}") from None
            runs.append(WorkerRun(i, worker_out(out, i), p.returncode, ended[i], summary))
    except _Terminated as exc:
        raise WorkerError(f"{exc}: all {n_workers} workers stopped") from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        _stop(processes)
        for h in handles:
            h.close()
        shutil.rmtree(logs, ignore_errors=True)
    shutil.rmtree(Path(out) / WORKERS_DIR, ignore_errors=True)
    return ClusterRun(runs, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fashionsim.distribute --workers N --out DIR -- <fashionsim command line>``."""
    parser = argparse.ArgumentParser(
        prog="python -m fashionsim.distribute",
        description="Run a fashionsim training command on N local workers (MultiWorkerMirroredStrategy over "
                    "127.0.0.1). Example: python -m fashionsim.distribute --workers 2 --out runs/s -- "
                    "train siamese --catalog demo --json")
    parser.add_argument("--workers", type=int, default=2, help="number of worker processes (default 2)")
    parser.add_argument("--out", required=True, help="the chief's output folder (the others write below it)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before all workers are stopped")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the fashionsim command line")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the fashionsim command line after --, e.g. -- train siamese --catalog demo --json")
    try:
        result = launch(command, args.workers, out=args.out, timeout=args.timeout)
    except (WorkerError, ValueError) as exc:
        print(f"fashionsim.distribute: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    print(json.dumps({"seconds": round(result.seconds, 2), "equal_weights": result.equal_weights,
                      "workers": [{"index": w.index, "out": str(w.out), "seconds": round(w.seconds, 2),
                                   **w.summary} for w in result.workers]}, indent=2, default=str))
    return 0 if result.equal_weights else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
