"""``newswire extract PATH... [--url URL] --jsonl``: clean local pages and texts as the pipeline does.

One JSON object per input, in input order, with path (as given), title, text, authors,
published, language, site_name, url, quality and reason (None for an article), plus
``claims`` when the claims model is available. A bad input yields an object with ``reason``
(and ``error`` for a crash); the batch goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

OUTPUT_KEYS = ("path", "title", "text", "authors", "published", "language", "site_name", "url", "quality", "reason")


def register(subparsers) -> None:
    """Add the ``extract`` sub-command to the ``newswire`` parser."""
    parser = subparsers.add_parser(
        "extract",
        help="extract and clean articles from .html/.html.gz/.txt/.md files",
        description="Extract the article of each file (body, title, authors, date, language) and apply the "
        "quality gate, exactly as the pipeline does.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".html, .htm, .html.gz, .txt or .md files")
    parser.add_argument("--url", help="the URL the page(s) came from (sets url, canonical URL and id)")
    parser.add_argument("--jsonl", action="store_true", help="print one JSON object per input")
    parser.add_argument("--no-claims", action="store_true", help="skip claim extraction")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Extract every path in order; print JSON lines (``--jsonl``) or a one-line summary per input."""
    from newswire.extract import extract_path

    claims = None if args.no_claims else _claims_function()
    for path in args.paths:
        row = _row(path, args.url, extract_path, claims)
        if args.jsonl:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            status = row["reason"] or "article"
            sys.stdout.write(f"{path}\t{status}\t{row['quality']}\t{row['title']}\n")
        sys.stdout.flush()
    return 0


def _row(path: str, url: str | None, extract_path, claims) -> dict[str, Any]:
    """The output object of one input; a crash becomes reason "error" with the error text."""
    try:
        article = extract_path(path, url=url)
    except Exception as err:  # noqa: BLE001 - one bad input must not stop the batch
        row: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
        row.update(path=path, authors=[], quality=0.0, reason="error", error=f"{type(err).__name__}: {err}")
        return row
    row = {
        "path": path,
        "title": article.title,
        "text": article.text,
        "authors": article.authors,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "site_name": article.site_name,
        "url": article.url or article.canonical_url or None,
        "quality": article.quality,
        "reason": article.reason,
    }
    if claims is not None:
        row["claims"] = claims(article) if article.reason is None else []
    return row


def _claims_function():
    """``article -> [claim dict]`` from ``newswire.claims`` when it and its model load, else None."""
    try:
        from newswire.claims import ClaimExtractor  # CLAIMS CALL SITE (owned by the claims stage)

        extractor = ClaimExtractor()
    except Exception as err:  # noqa: BLE001 - claims are optional for this command
        print(f"newswire extract: claims skipped ({type(err).__name__}: {err})", file=sys.stderr)
        return None

    from newswire.models import to_dict

    return lambda article: [to_dict(c) for c in extractor.extract(article.text, language=article.language)]
