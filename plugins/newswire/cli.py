"""The ``newswire`` command. Never imports Airflow, so it starts fast.

Each sub-command lives in ``newswire.commands.<name>`` with a ``register(subparsers)``
function; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "es",
    "sources",
    "extract",
    "dedup",
    "checkworthy",
    "run",
    "search",
    "setup",
    "claims",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswire", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"newswire.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `newswire search ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
