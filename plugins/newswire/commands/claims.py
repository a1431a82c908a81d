"""``newswire claims same FILE`` and ``newswire claims similar "TEXT"``: the claim-matching decision and search."""

from __future__ import annotations

import argparse
import json
import sys

MAX_LINE_CHARS = 20_000  # a "sentence" longer than this is not one; its line is reported, the rest go on


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "claims", help="claim matching: decide whether two sentences are one claim, find where a claim ran",
        description="Claim matching with the sentence-embedding model and the stored rule (threshold and "
        "number check), exactly as claim grouping decides.",
    )
    sub = parser.add_subparsers(dest="claims_command", required=True, metavar="ACTION")
    same = sub.add_parser("same", help='JSON lines {"text_1", "text_2"} in, one {"same", "score"} per line out',
                          description="Reads JSON lines with text_1 and text_2 (a file, or - for stdin) and "
                          "prints one JSON line {\"same\": bool, \"score\": float} per input line, in order.")
    same.add_argument("file", help="JSON lines file, or - for stdin")
    same.set_defaults(handler=run_same)
    similar = sub.add_parser("similar", help="stored claims closest in meaning to TEXT, with their group and outlets",
                             description="kNN over the claims index (Elasticsearch from ELASTICSEARCH_URL).")
    similar.add_argument("text", help="a sentence")
    similar.add_argument("--size", type=int, default=10, help="how many claims (default 10, at most 100)")
    similar.add_argument("--json", action="store_true", help="print the results as JSON")
    similar.set_defaults(handler=run_similar)


def run_same(args: argparse.Namespace) -> int:
    """Decide each line; a line that is not a JSON object with two strings gets an ``error`` line in its place."""
    from newswire.claims.embedding import ClaimEmbedder
    from newswire.claims.groups import MatchRule

    handle = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")
    try:
        lines = handle.read().splitlines()
    finally:
        if handle is not sys.stdin:
            handle.close()
    pairs: list[tuple[str, str] | str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text_1, text_2 = row["text_1"], row["text_2"]
            if not isinstance(text_1, str) or not isinstance(text_2, str):
                raise TypeError("text_1 and text_2 must be strings")
            if len(text_1) > MAX_LINE_CHARS or len(text_2) > MAX_LINE_CHARS:
                raise ValueError(f"a text longer than {MAX_LINE_CHARS} characters")
            pairs.append((text_1, text_2))
        except (ValueError, KeyError, TypeError) as exc:
            pairs.append(f"line {number}: {type(exc).__name__}: {exc}")
    embedder = ClaimEmbedder()
    rule = MatchRule.load()
    texts = sorted({t for p in pairs if isinstance(p, tuple) for t in p})
    vectors = dict(zip(texts, embedder.vectors(texts)))
    failed = 0
    for pair in pairs:
        if isinstance(pair, str):
            failed += 1
            print(f"newswire claims same: {pair}", file=sys.stderr)
            out = {"same": False, "score": 0.0, "error": pair}
        else:
            decision = rule.decide(pair[0], pair[1], vectors[pair[0]], vectors[pair[1]])
            out = {"same": decision.same, "score": decision.score}
        sys.stdout.write(json.dumps(out) + "\n")
    return 1 if failed else 0


def run_similar(args: argparse.Namespace) -> int:
    from elasticsearch import ApiError, ConnectionError as ESConnectionError

    from newswire.claims.embedding import ClaimEmbedder
    from newswire.index.claim_search import similar_claims
    from newswire.settings import Settings

    if not args.text.strip():
        print("newswire claims similar: give a sentence", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    vector = ClaimEmbedder().vectors([args.text[:MAX_LINE_CHARS]])[0]
    es = settings.es_client()
    try:
        hits = similar_claims(es, vector, size=max(1, min(args.size, 100)), prefix=settings.index_prefix)
    except ApiError as err:
        print(f"newswire claims similar: Elasticsearch refused the query: {err.message}", file=sys.stderr)
        return 2
    except ESConnectionError as err:
        print(f"newswire claims similar: cannot reach Elasticsearch at {settings.es_url}: {err}", file=sys.stderr)
        return 2
    finally:
        es.close()
    if args.json:
        json.dump({"query": args.text, "hits": hits}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{len(hits)} similar claim{'s' if len(hits) != 1 else ''}")
    for n, hit in enumerate(hits, 1):
        when = (hit.get("published") or "")[:10] or "undated"
        print(f"\n{n}. [{hit['similarity']:.3f}] {hit.get('text', '')}")
        print(f"   {hit.get('source', '')} · {when} · {hit.get('url', '')}")
        print(f"   {group_line(hit)}")
    return 0


def group_line(doc: dict) -> str:
    """A claim's group for people: how many stories stated it, and the outlets that carried it."""
    size = doc.get("group_size") or 0
    outlets = doc.get("group_outlets") or []
    if not size:
        return "group: none yet"
    first = " (first seen here)" if doc.get("group_first") else ""
    return f"group {str(doc.get('group_id'))[:12]}: {size} claim{'s' if size != 1 else ''}, " \
           f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: {', '.join(outlets)}{first}"
