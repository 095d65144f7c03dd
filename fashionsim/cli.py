"""The ``fashionsim`` command line (also ``python -m fashionsim``).

Each subcommand is a thin wrapper around the functions the notebooks call
(see :mod:`fashionsim.commands`). Bad input prints one clear line on stderr
and exits with status 2; output that is data prints as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence

from fashionsim import __version__

# Subcommand modules, in the order --help lists them.
_COMMAND_MODULES = ("demo", "catalog", "train", "embed", "search", "recommend", "evaluate", "bench")

#: Set before TensorFlow is first imported (unless --verbose): its C++ start-up lines ("Could not find
#: cuda drivers", "cuInit ... UNKNOWN ERROR", the oneDNN notice) are information, not failures.
_QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3"}


def quiet_tensorflow() -> None:
    """Silence TensorFlow's and absl's start-up logging; variables the user set are kept."""
    for name, value in _QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if "tensorflow" in sys.modules:   # already imported (a notebook, a test): quiet its Python logger at least
        sys.modules["tensorflow"].get_logger().setLevel("ERROR")
    import logging
    import warnings

    logging.getLogger("absl").setLevel(logging.ERROR)
    for module in ("keras", "tensorflow", "absl"):
        warnings.filterwarnings("ignore", module=module)


#: A TensorFlow/absl C++ log line (``I0000 00:00:17.5  123 port.cc:153] ...``) or absl's pre-init notice.
_TF_LOG_LINE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
                          r"STDERR|[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] )")
#: Subcommands that run a Keras model, so import TensorFlow.
_TENSORFLOW_COMMANDS = {"train", "embed", "search", "recommend", "evaluate", "bench"}


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (and find its devices) with its C++ start-up lines kept off the terminal.

    Setting ``TF_CPP_MIN_LOG_LEVEL`` is not enough with TensorFlow >= 2.16: absl prints
    "Could not find cuda drivers", the oneDNN notice and cuInit errors before it
    reads the variable. They go to file descriptor 2 from C++, so descriptor 2 is
    pointed at a temporary file while TensorFlow starts; afterwards every other
    line written there is passed on unchanged. GPUs stay visible.
    """
    if "tensorflow" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        ok = False
        try:
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
            tf.config.list_physical_devices()
            import keras  # noqa: F401
            ok = True
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not (ok and _TF_LOG_LINE.match(line))))
            sys.stderr.flush()


def _verbose_first(argv: list[str]) -> list[str]:
    """``--verbose`` is accepted anywhere on the line: move it in front of the subcommand."""
    return (["--verbose"] + [a for a in argv if a != "--verbose"]) if "--verbose" in argv else argv


def _input_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "your input is wrong" rather than "fashionsim is broken"."""
    from fashionsim.commands._common import UsageError
    from fashionsim.data.catalog import CatalogError

    return (UsageError, CatalogError, ValueError, FileNotFoundError, FileExistsError, KeyError, PermissionError,
            IsADirectoryError, NotADirectoryError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionsim", description="Visual fashion similarity and recommendation.")
    parser.add_argument("--version", action="version", version=f"fashionsim {__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up and warning lines (quiet by default); anywhere on the line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f"fashionsim.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    argv = _verbose_first(list(sys.argv[1:] if argv is None else argv))
    if "--verbose" not in argv:
        quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verbose and args.command in _TENSORFLOW_COMMANDS:
        import_tensorflow_quietly()
    try:
        return int(args.func(args) or 0)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line (a traceback only with --verbose)
        code, message = _failure(exc)
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"fashionsim {args.command}: error: {message}", file=sys.stderr)
        return code


def _failure(exc: BaseException) -> tuple[int, str]:
    """(exit status, one-line message): 2 for bad input, 1 for environment faults and anything else."""
    image_error = None
    if "tensorflow" in sys.modules:   # an unreadable image inside a tf.data pipeline (embed, train, evaluate)
        from fashionsim.images import image_error as _image_error

        image_error = _image_error(exc)
    if image_error is not None:
        return 2, _one_line(image_error)
    if isinstance(exc, (PermissionError, MemoryError)) or (
            isinstance(exc, OSError) and not isinstance(exc, (FileNotFoundError, FileExistsError,
                                                               IsADirectoryError, NotADirectoryError))):
        # The environment, not the input: a full disk, no permission, a read-only or vanished mount.
        import errno

        is_os = isinstance(exc, OSError)
        hint = ""
        if is_os and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = " (no space left on the device: free some space or write elsewhere)"
        elif isinstance(exc, PermissionError):
            hint = " (no permission: choose a folder you can write to)"
        if is_os and exc.strerror and exc.filename and exc.filename not in str(exc.args[-1]):
            text = f"{exc.strerror}: {exc.filename}{hint}"
        else:
            text = f"{exc}{hint}"
        return 1, _one_line(text)
    if isinstance(exc, _input_errors()):
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        return 2, _one_line(message)
    return 1, f"{type(exc).__name__}: {_one_line(exc)} (run again with --verbose for the traceback)"


def _one_line(message: object) -> str:
    """The first line of a message (TensorFlow and NumPy messages can run over many lines)."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[0] if lines else str(message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
