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


def service_error(exc: BaseException) -> str | None:
    """One line for an Elasticsearch error that no command handled itself, or None for anything else.

    ``ConnectionTimeout`` (a server that accepts the connection and never answers) is a
    ``TransportError`` but not a ``ConnectionError``, so commands catching only the latter let it through.
    """
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    if isinstance(exc, TransportError):
        detail = " ".join(str(exc).split())[:300]
        return f"Elasticsearch did not answer ({type(exc).__name__}: {detail})"
    if isinstance(exc, ApiError):
        return f"Elasticsearch refused the request ({exc.meta.status}: {' '.join(str(exc.message).split())[:300]})"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `newswire search ... | head`
        return 0
    except Exception as exc:
        message = service_error(exc)
        if message is None:
            raise
        print(f"newswire {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
