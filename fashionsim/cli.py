"""The ``fashionsim`` command line (also ``python -m fashionsim``).

Each subcommand is a thin wrapper around the functions the notebooks call
(see :mod:`fashionsim.commands`). Bad input prints one clear line on stderr
and exits with status 2; output that is data prints as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from fashionsim import __version__

# Subcommand modules, in the order --help lists them.
_COMMAND_MODULES = ("demo", "train", "search", "recommend", "evaluate", "bench")


def _input_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "your input is wrong" rather than "fashionsim is broken"."""
    from fashionsim.commands._common import UsageError
    from fashionsim.data.catalog import CatalogError

    return (UsageError, CatalogError, ValueError, FileNotFoundError, KeyError, PermissionError, IsADirectoryError,
            NotADirectoryError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionsim", description="Visual fashion similarity and recommendation.")
    parser.add_argument("--version", action="version", version=f"fashionsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f"fashionsim.commands.{name}").register(sub)
    return parser


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
