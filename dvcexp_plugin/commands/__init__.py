"""Subcommands: one module each, with ``add_parser(subparsers, parents)`` and ``run(args)``."""
