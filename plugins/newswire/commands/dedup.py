"""``newswire dedup PATH... --json``: cluster local files into copies, no Elasticsearch needed."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter


def register(subparsers) -> None:
    """Add the ``dedup`` sub-command to the ``newswire`` parser."""
    parser = subparsers.add_parser(
        "dedup",
        help="cluster text/HTML files into near-duplicate groups",
        description="Extract and clean each file as the pipeline does, fingerprint it and cluster copies "
        "with the pipeline's dedup parameters. Every input ends in exactly one cluster.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="text or HTML files")
    parser.add_argument("--json", action="store_true", help='print {"clusters": [[path, ...], ...]}')
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Cluster the given files; print JSON (``--json``) or one line per cluster."""
    from newswire.dedup import DEFAULT_PARAMS, cluster
    from newswire.dedup.files import load_items

    paths = list(dict.fromkeys(args.paths))  # a file is read once, however often it is given
    repeats = Counter(args.paths)
    clusters = cluster(load_items(paths, DEFAULT_PARAMS), DEFAULT_PARAMS)
    # Canonical first, then the copies in sorted order; clusters sorted by their canonical.
    # A path given n times appears n times, so every input is in exactly one cluster.
    groups = sorted(
        [p for m in [c.canonical] + [m for m in c.members if m != c.canonical] for p in [m] * repeats[m]]
        for c in clusters
    )
    if args.json:
        json.dump({"clusters": groups}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for group in groups:
            print("\t".join(group))
    return 0
