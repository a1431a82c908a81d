"""``newswire sources validate|list [PATH]``: check and show the configured sources."""

from __future__ import annotations

import argparse
import sys


def _path(args: argparse.Namespace):
    from newswire.settings import Settings

    return args.path or Settings.from_env().sources_path


def _load(args: argparse.Namespace):
    """The validated config, or None after printing every problem to stderr."""
    from newswire.config import ConfigError, load_config

    try:
        return load_config(_path(args))
    except ConfigError as exc:
        print(f"{exc.path}: {len(exc.problems)} error(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return None


def validate(args: argparse.Namespace) -> int:
    """Exit 0 printing ``ok: N sources``, or 1 printing one line per problem (source and field named)."""
    from newswire.config import missing_paths

    config = _load(args)
    if config is None:
        return 1
    if problems := missing_paths(config):
        print(f"{_path(args)}: {len(problems)} error(s)", file=sys.stderr)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"ok: {len(config.sources)} sources ({len(config.enabled)} enabled) in {_path(args)}")
    return 0


def list_sources(args: argparse.Namespace) -> int:
    """A table of name, type, url/path, enabled, schedule (``watch MIN-MAX`` for a streamed source)."""
    config = _load(args)
    if config is None:
        return 1
    rows = [("NAME", "TYPE", "URL/PATH", "ENABLED", "SCHEDULE")] + [
        (s.name, s.type, s.location, "yes" if s.enabled else "no", _when(s)) for s in config.sources
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0


def register(subparsers) -> None:
    """Add ``sources validate`` and ``sources list`` to the ``newswire`` parser."""
    parser = subparsers.add_parser("sources", help="check and list the configured sources")
    actions = parser.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    for name, handler, help_text in (
        ("validate", validate, "check a sources file; exit 1 listing every error"),
        ("list", list_sources, "show the configured sources"),
    ):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("path", nargs="?", help="sources file (default: $NEWSWIRE_SOURCES or config/sources.yaml)")
        sub.set_defaults(handler=handler)


def _when(source) -> str:
    if source.watch is not None:
        bounds = (source.watch.min_interval, source.watch.max_interval)
        return "watch " + "-".join(f"{int(b.total_seconds())}s" for b in bounds)
    return source.schedule or "-"
