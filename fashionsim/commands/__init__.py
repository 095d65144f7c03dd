"""The subcommands of the ``fashionsim`` command line, one module per group.

Each module has ``register(subparsers)``; handlers take the parsed arguments
and return an exit status. Shared helpers live in :mod:`fashionsim.commands._common`.
"""
