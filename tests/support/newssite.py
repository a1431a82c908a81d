"""A small news site for end-to-end tests: real article pages, copies of some, and RSS feeds.

24 distinct pages from the article-extraction benchmark (tests/fixtures/pages) plus 6 copies
under other URLs: 3 exact (syndication) and 3 with their last paragraphs cut (abridged reposts).
"""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from support.webserver import WebServer

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "tests" / "fixtures" / "pages"
EXACT_COPIES = 3  # the same page under another URL (syndication)
TRUNCATED_COPIES = 3  # the page with its last paragraphs cut (an abridged repost)


def _truncated(html: str) -> str:
    """The page with roughly its last quarter of paragraphs removed."""
    paragraphs = list(re.finditer(r"<p[\s>].*?</p>", html, flags=re.S | re.I))
    cut = paragraphs[len(paragraphs) * 3 // 4:]
    for match in reversed(cut):
        html = html[:match.start()] + html[match.end():]
    return html


def _rss(items: list[tuple[str, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(url)}</link><guid>{escape(url)}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for url, title, published in items
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Local wire</title>'
            f"<link>http://127.0.0.1/</link><description>test feed</description>{entries}</channel></rss>")


def serve_news_site(server: WebServer, feeds: int = 1) -> dict[str, str]:
    """Register the pages and the feeds; returns {path: original page file} for the 30 pages.

    With ``feeds=1`` one feed ``/feed.xml`` lists every page; with more, ``/feed-<i>.xml``
    split the pages between them (each story and its copies stay in one feed).
    """
    files = sorted(PAGES.glob("*.html.gz"))
    assert len(files) == 24
    served: dict[str, str] = {}
    base = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    items = []
    for n, file in enumerate(files):
        html = gzip.decompress(file.read_bytes()).decode("utf-8", errors="replace")
        path = f"/news/{file.name.removesuffix('.html.gz')}.html"
        server.add(path, body=html)
        served[path] = file.name
        items.append((server.url(path), f"story {n}", base + timedelta(minutes=n)))
        if n < EXACT_COPIES:
            copy = f"/syndicated/{n}.html"
            server.add(copy, body=html)
            served[copy] = file.name
            items.append((server.url(copy), f"story {n} (syndicated)", base + timedelta(hours=5, minutes=n)))
        elif n < EXACT_COPIES + TRUNCATED_COPIES:
            copy = f"/abridged/{n}.html"
            server.add(copy, body=_truncated(html))
            served[copy] = file.name
            items.append((server.url(copy), f"story {n} (abridged)", base + timedelta(hours=6, minutes=n)))
    groups = [items] if feeds == 1 else [[] for _ in range(feeds)]
    if feeds > 1:
        for item in items:
            story = int(item[1].split()[1])
            groups[story * feeds // len(files)].append(item)
    for i, group in enumerate(groups):
        path = "/feed.xml" if feeds == 1 else f"/feed-{i}.xml"
        server.add(path, body=_rss(group), content_type="application/rss+xml; charset=utf-8", etag='"feed-v1"')
    server.robots("User-agent: *\nAllow: /\n")
    return served


def write_config(path: Path, server: WebServer, feeds: int = 1, extra: str = "") -> Path:
    """A sources file with the site's feed(s) (loopback allowed explicitly) and the repo's seeds."""
    if feeds == 1:
        wires = [("local-wire", "/feed.xml")]
    else:
        wires = [(f"wire-{i}", f"/feed-{i}.xml") for i in range(feeds)]
    feed_sources = "".join(f"""  - name: {name}
    type: feed
    url: {server.url(feed)}
    schedule: "@hourly"
""" for name, feed in wires)
    path.write_text(f"""
defaults:
  allowed_networks: [127.0.0.1/32]   # the test web server is on loopback
  rate_limit: 100
  max_concurrency: 4
  retries: 1
sources:
{feed_sources}  - name: seeds
    type: directory
    path: {REPO / "seeds"}
    language: en
    schedule: "@daily"
{extra}""")
    return path


def ingest_dag():
    """The ``newswire_ingest`` DAG, parsed now from the repo's dags/ (so it sees the current config)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "newswire_ingest.py"))
    assert bag.import_errors == {}
    return bag.dags["newswire_ingest"]


def count(es, index: str, query: dict | None = None) -> int:
    es.indices.refresh(index=index)
    return es.count(index=index, query=query or {"match_all": {}})["count"]
