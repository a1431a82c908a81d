"""``newswire setup`` (templates, indices, Kibana objects) and ``newswire reindex``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``setup`` and ``reindex`` sub-commands to the ``newswire`` parser."""
    setup = subparsers.add_parser(
        "setup",
        help="create index templates and indices; import Kibana objects",
        description="Idempotent: writes the index templates, creates each versioned index behind its alias "
        "if missing, and with --kibana-url (or $KIBANA_URL; empty: no Kibana) checks the saved objects "
        "(data views, searches, dashboard) against what Kibana enforces and imports them. "
        "Elasticsearch from ELASTICSEARCH_URL; Kibana credentials from KIBANA_USERNAME/KIBANA_PASSWORD "
        "(default: the Elasticsearch ones).",
    )
    setup.add_argument("--kibana-url", help="Kibana base URL (default $KIBANA_URL; empty: no Kibana)")
    setup.add_argument("--kibana-wait", type=float, default=0, metavar="SECONDS", help="wait this long for Kibana to come up")
    setup.add_argument("--kibana-export", type=Path, metavar="FILE", help="write the saved objects NDJSON to FILE ('-' for stdout)")
    setup.add_argument("--skip-es", action="store_true", help="leave Elasticsearch alone (only export/import Kibana objects)")
    setup.set_defaults(handler=run_setup)

    reindex = subparsers.add_parser(
        "reindex",
        help="copy an index into a new version and move its alias",
        description="Client-side reindex (scroll + bulk) into {prefix}-<index>-v<N+1> with the current mapping, "
        "then an atomic alias swap once every document is there. Pause ingestion meanwhile.",
    )
    reindex.add_argument("--index", choices=("articles", "claims", "sources", "runs", "deadletter"), default="articles")
    reindex.add_argument("--delete-old", action="store_true", help="delete the previous index after the swap")
    reindex.set_defaults(handler=run_reindex)


def run_setup(args: argparse.Namespace) -> int:
    """Create templates and indices, then export and/or import the Kibana objects."""
    from newswire.kibana import KibanaImportError, KibanaObjectsError, KibanaTarget, install, ndjson_for
    from newswire.settings import Settings

    settings = Settings.from_env()
    ndjson = ndjson_for(settings.index_prefix)
    if args.kibana_export:
        if str(args.kibana_export) == "-":
            sys.stdout.write(ndjson)
        else:
            args.kibana_export.write_text(ndjson, encoding="utf-8")
            print(f"wrote {len(ndjson.splitlines())} saved objects to {args.kibana_export}", file=sys.stderr)
    if not args.skip_es:
        from newswire.index.admin import ensure_indices

        es = settings.es_client()
        try:
            summary = ensure_indices(es, settings.index_prefix)
        finally:
            es.close()
        print(f"analysis: {summary['analysis']}", file=sys.stderr)
        for kind, info in summary["indices"].items():
            print(f"{info['alias']:<28} -> {info['index']:<32} {info['status']}", file=sys.stderr)
            if info["status"] == "outdated":
                print(f"  run `newswire reindex --index {kind}` to move it to the current mapping", file=sys.stderr)
    target = KibanaTarget.from_env(settings, args.kibana_url)
    if target is None:
        print("Kibana: skipped (no --kibana-url and KIBANA_URL is empty)", file=sys.stderr)
        return 0
    try:
        result = install(target, settings.index_prefix, wait_seconds=args.kibana_wait)
    except (KibanaImportError, KibanaObjectsError) as err:
        print(f"newswire setup: {err}", file=sys.stderr)
        return 1
    print(f"Kibana: imported {result.get('successCount', 0)} saved objects", file=sys.stderr)
    return 0


def run_reindex(args: argparse.Namespace) -> int:
    """Reindex one kind and report where its alias now points."""
    from newswire.index.reindex import ReindexError, reindex
    from newswire.settings import Settings

    settings = Settings.from_env()
    es = settings.es_client()
    try:
        result = reindex(es, args.index, settings.index_prefix)
        if args.delete_old:
            es.indices.delete(index=result.source_index)
    except ReindexError as err:
        print(f"newswire reindex: {err}", file=sys.stderr)
        return 1
    finally:
        es.close()
    print(json.dumps({
        "alias": result.alias, "from": result.source_index, "to": result.target_index,
        "copied": result.copied, "seconds": round(result.seconds, 2), "old_deleted": args.delete_old,
    }))
    return 0
