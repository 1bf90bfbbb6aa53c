"""The CLI boundary: ``main(argv) -> int``.

This is the only place that prints errors and picks exit codes. Subcommands
live in :mod:`dvcexp_plugin.commands`, each a module with
``add_parser(subparsers, parents)`` and ``run(args) -> int``; they are
imported lazily so ``dvcexp status`` never pays for Snakemake or Hydra.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from dvcexp_plugin import __version__
from dvcexp_plugin.errors import DvcExpError

#: exit codes, as DVC's
EXIT_OK = 0
EXIT_USAGE = 254
EXIT_ERROR = 255
EXIT_INTERRUPTED = 130

#: top-level command name → module under dvcexp_plugin.commands
COMMANDS = {
    "status": "status",
    "stage": "stage",
    "dag": "dag",
    "repro": "repro",
    "compile": "compile",
    "stage-run": "stage_run",
    "exp": "exp",
    "queue": "queue",
    "params": "params",
    "metrics": "metrics",
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() picks the code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(self, message)


class _UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


def _command_of(args: Sequence[str]) -> str | None:
    """The command word of ``args`` (the first one not an option or ``--cd``'s value)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--cd":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, or only ``command``'s when it is one.

    Registering one command imports only its module, so ``exp show`` (a tenth
    of a second when answered from its cache) does not load ``repro`` or ``queue``.
    """
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="count", default=0, help="Be quiet.")
    common.add_argument("-v", "--verbose", action="count", default=0, help="Be verbose.")
    common.add_argument("--cd", default=os.curdir, metavar="<path>",
                        help="Change to directory before executing.")
    parser = _Parser(
        prog="dvcexp",
        description="DVC's pipelines and experiments, scheduled by Snakemake.",
        parents=[common],
    )
    parser.add_argument("-V", "--version", action="version", version=__version__)
    subparsers = parser.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    names = [COMMANDS[command]] if command in COMMANDS else COMMANDS.values()
    for module_name in dict.fromkeys(names):
        module = importlib.import_module(f"dvcexp_plugin.commands.{module_name}")
        module.add_parser(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one dvcexp command; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(args_list))
    try:
        args = parser.parse_args(args_list)
    except _UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE if args.cmd else EXIT_OK
    try:
        if args.cd != os.curdir:
            os.chdir(args.cd)
        return int(args.func(args))
    except DvcExpError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ERROR: interrupted by the user", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `dvcexp ... | head`: not an error worth a traceback
        sys.stderr.close()
        return EXIT_OK
