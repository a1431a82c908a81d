"""``newswire search "query"``: search indexed articles (or claims) from the terminal."""

from __future__ import annotations

import argparse
import json
import re
import sys

from newswire.commands.claims import group_line


def register(subparsers) -> None:
    """Add the ``search`` sub-command to the ``newswire`` parser."""
    parser = subparsers.add_parser(
        "search",
        help="search indexed articles or claims",
        description="Full-text search over the articles index (canonical articles only unless "
        "--include-duplicates), or the claims index with --claims. Elasticsearch from ELASTICSEARCH_URL.",
    )
    parser.add_argument("query", help='words or a sentence; "" lists the newest')
    parser.add_argument("--source", help="only this source (its name in sources.yaml)")
    parser.add_argument("--since", metavar="DATE", help="published on or after DATE (2024-05-01, or now-7d)")
    parser.add_argument("--until", metavar="DATE", help="published on or before DATE")
    parser.add_argument("--lang", help="only this language code (en, de, ...)")
    parser.add_argument("--speaker", help="claims only: by this speaker")
    parser.add_argument("--include-duplicates", action="store_true", help="also show copies of a canonical article")
    parser.add_argument("--claims", action="store_true", help="search claims instead of articles")
    parser.add_argument("--size", type=int, default=10, help="how many results (default 10)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=run)


_EM = re.compile(r"</?em>")


def _emphasise(fragment: str, tty: bool) -> str:
    """Highlight markers as bold on a terminal, as *stars* otherwise."""
    if tty:
        return fragment.replace("<em>", "\033[1m").replace("</em>", "\033[0m")
    return _EM.sub("*", fragment)


def _print_human(result, claims: bool, out) -> None:
    tty = out.isatty()
    print(f"{result.total} match{'es' if result.total != 1 else ''}", file=out)
    for n, hit in enumerate(result.hits, 1):
        doc = hit.doc
        when = (doc.get("published") or "")[:10] or "undated"
        if claims:
            who = f"{doc['speaker']}: " if doc.get("speaker") else ""
            print(f"\n{n}. {who}{doc.get('text', '')}", file=out)
            print(f"   {doc.get('source', '')} · {when} · {doc.get('title', '')}", file=out)
            print(f"   {group_line(doc)}", file=out)
        else:
            dup = "" if doc.get("is_canonical", True) else f" · copy of {doc.get('duplicate_of')}"
            copies = f" · {doc['duplicate_count']} copies" if doc.get("duplicate_count") else ""
            print(f"\n{n}. {doc.get('title') or '(untitled)'}", file=out)
            print(f"   {doc.get('source', '')} · {when} · {doc.get('language') or '?'}{copies}{dup}", file=out)
            for fragment in hit.fragments()[:2]:
                print(f"   … {_emphasise(fragment, tty)} …", file=out)
        print(f"   {doc.get('url', '')}", file=out)


def run(args: argparse.Namespace) -> int:
    """Run the search and print it; exit 2 when Elasticsearch is unreachable or rejects the query."""
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    from newswire.index.search import search_articles, search_claims
    from newswire.settings import Settings

    settings = Settings.from_env()
    es = settings.es_client()
    common = dict(
        source=args.source, since=args.since, until=args.until, lang=args.lang,
        include_duplicates=args.include_duplicates, size=args.size, prefix=settings.index_prefix,
    )
    try:
        if args.claims:
            result = search_claims(es, args.query, speaker=args.speaker, **common)
        else:
            result = search_articles(es, args.query, **common)
    except ApiError as err:
        causes = (err.body.get("error", {}) if isinstance(err.body, dict) else {}).get("root_cause") or [{}]
        print(f"newswire search: Elasticsearch refused the query: {causes[0].get('reason', err.message)}", file=sys.stderr)
        return 2
    except TransportError as err:  # refused, timed out, or answering garbage
        print(f"newswire search: cannot reach Elasticsearch at {settings.es_url}: {err}", file=sys.stderr)
        return 2
    finally:
        es.close()
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_human(result, args.claims, sys.stdout)
    return 0
