"""The product measured as a user gets it: real pages served on 127.0.0.1, the real pipeline, the real index.

Usage: .venv/bin/python bench/eval_e2e.py [--data DIR ...] [--limit N] [--claims] [--workers N] [--show-wrong N]

Each ``--data`` folder is recognised by its files: ``ground-truth.jsonl`` with ``articleBody``
(article-extraction-benchmark), ``ground-truth.jsonl`` with ``with``/``without`` segments
(trafilatura-eval), ``clusters.jsonl`` with ``docs/`` (neardup-news). Default: the three DEV sets in
../shared/data. The pages are served by a local news site (tests/support/webserver.py) through:

* an RSS feed: the benchmark pages (some behind a redirecting link, some with tracking
  parameters), dated, plus the trap items: a robots-disallowed page, a slow one, a huge one, a
  redirect loop, a 410, a non-http link, a section page that is not an article;
* an Atom feed: the trafilatura-eval pages and half of the near-duplicate copies, dated later
  than the originals they copy;
* a news sitemap: overlapping entries (pages the feeds also list, under the same or another
  spelling of the URL) and the section page again;
* a folder (directory source): the other copies and the hard negatives (distinct stories on the
  same subject, same boilerplate), undated.

A copy in neardup-news whose original is a benchmark page belongs to that page's cluster, so the
benchmark page is the original report. Then ``newswire run``'s code path (``pipeline.run_once``:
every source, then reconcile, then the run report) runs into a real Elasticsearch, twice, and the
script prints, against the data's own truth:

* article recall: true articles indexed / true articles served (every served page except traps);
* end-to-end body F1 on the benchmark pages (missing article = 0), beside plain
  ``trafilatura.extract`` on the same pages; the trafilatura-eval segment F1 the same way;
* title exact match (where the data gives a title); date accuracy against the days the page
  states in standard markup (``stated_dates``: published-date ``<meta>``, JSON-LD and microdata
  ``datePublished``, ``<time pubdate>``), read by this script and never by newswire's code, or
  else the day the feed states; beside it, agreement with trafilatura-eval's annotated dates;
* canonical correctness (the original's document is its cluster's canonical), cluster pair
  precision and recall;
* run-report counts minus index counts (indexed, duplicates): must be 0;
* article fetches on the second run (pages fetched again, with feeds re-read and the folder
  touched): must be 0;
* wall time of the first run against plain trafilatura over the same pages (ratio).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
# The DEV sets sit in shared/data beside the checkout (or beside its parent, for a worktree).
SHARED = next((p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared" / "data").is_dir()),
              REPO.parent / "shared" / "data")
DEFAULT_DATA = [SHARED / "article-extraction-benchmark", SHARED / "trafilatura-eval", SHARED / "neardup-news"]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "bench")]

from eval_extraction import aggregate, page_counts, segment_counts, segment_scores, shingles  # noqa: E402

HARD_NEGATIVES = ("same-story", "same-boilerplate", "stock-paragraphs")
BASE_DATE = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)  # feed date of originals; copies come later
COPY_DELAY = timedelta(hours=6)
PREFIX = "e2e"


@dataclass(kw_only=True)
class Item:
    """One served document and its truth."""

    key: str  # unique over all sets
    dataset: str  # aeb | traf | neardup
    body: bytes
    content_type: str
    channel: str = ""  # rss | atom | folder
    path: str = ""  # URL path on the site, or the file name in the folder
    truth_body: str | None = None  # AEB: the expected article body
    shingles: set = field(default_factory=set)  # AEB: word 5-grams of truth_body
    segments: dict | None = None  # trafilatura-eval: with/without
    title: str | None = None
    page_dates: set[str] = field(default_factory=set)  # YYYY-MM-DD the page's markup states (stated_dates)
    annotated_date: str | None = None  # trafilatura-eval's annotation of the page's date, when valid
    feed_date: datetime | None = None
    cluster: str = ""  # gold cluster
    original: bool = True  # the first report of its cluster
    url: str = ""  # the entry URL the source lists
    also: list[str] = field(default_factory=list)  # other spellings: listed by other sources, or served under


# The publication date as pages state it in standard markup: <meta> names of Open Graph's article,
# schema.org microdata, Dublin Core, PRISM, Highwire (citation_*) and common CMS/analytics tags.
# The truth is read here, by this script alone (never by newswire's date code), so the product
# cannot grade itself.
PUBLISHED_META = frozenset((
    "article:published_time", "article:published", "og:article:published_time", "og:published_time",
    "published_time", "og:pubdate", "datepublished", "dc.date.issued", "dcterms.issued", "dc.date.created",
    "dcterms.created", "dc.date", "dcterms.date", "dc:date", "dcterms:created", "date", "pubdate", "publishdate",
    "publish-date", "publish_date", "pub_date", "published", "published_at", "sailthru.date", "parsely-pub-date",
    "citation_publication_date", "citation_date", "prism.publicationdate",
))
_ISO_DAY = re.compile(r"((?:19|20)[0-9]{2})[-/]?([01][0-9])[-/]?([0-3][0-9])(?![0-9])")
_WORDY_DAY = re.compile(r"\b([a-z]{3})[a-z]*\.? ([0-3]?[0-9])(?:st|nd|rd|th)?,? ((?:19|20)[0-9]{2})\b"
                        r"|\b([0-3]?[0-9])\.? ([a-z]{3})[a-z]*\.?,? ((?:19|20)[0-9]{2})\b", re.I)
_MONTHS = {m: n for n, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
EARLIEST_DAY = date(1995, 1, 1)  # before the web had news pages: a placeholder such as 0001-01-01


def parse_day(value: str) -> str | None:
    """YYYY-MM-DD of a date value as markup writes it (ISO 8601 and its variants, or "November 20, 2019")."""
    value = " ".join(value.split())[:100]
    found = _ISO_DAY.match(value)
    if found:
        year, month, day = map(int, found.groups())
    else:
        wordy = _WORDY_DAY.search(value)
        if not wordy:
            return None
        name, day, year = (wordy[1], wordy[2], wordy[3]) if wordy[1] else (wordy[5], wordy[4], wordy[6])
        month, day, year = _MONTHS.get(name.lower(), 0), int(day), int(year)
    try:
        stated = date(year, month, day)
    except ValueError:
        return None
    return stated.isoformat() if EARLIEST_DAY <= stated <= date.today() else None


def _jsonld_published(data, depth: int = 0) -> list[str]:
    """datePublished of the page's own JSON-LD entities: top-level objects, lists and @graph members
    (a datePublished nested deeper belongs to a comment, a review or a linked work)."""
    if depth > 3:
        return []
    if isinstance(data, list):
        return [d for node in data[:100] for d in _jsonld_published(node, depth + 1)]
    if not isinstance(data, dict):
        return []
    found = [data["datePublished"]] if isinstance(data.get("datePublished"), str) else []
    return found + _jsonld_published(data.get("@graph"), depth + 1)


def stated_dates(html: bytes) -> set[str]:
    """Every publication day the page states in standard markup: published-date <meta>, JSON-LD
    datePublished, microdata datePublished (of the page's work, not of a reader's comment) and
    <time pubdate>. Empty if none."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html[:5_000_000])
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - unparsable page: it states nothing
        return set()
    values: list[str] = []
    for meta in tree.iter("meta"):
        names = " ".join(meta.get(a) or "" for a in ("property", "name", "itemprop")).lower().split()
        if any(name in PUBLISHED_META for name in names):
            values.append(meta.get("content") or "")
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
            try:
                values += _jsonld_published(json.loads(script.text[:1_000_000]))
            except ValueError:
                continue
    for node in tree.iter():
        if not isinstance(node.tag, str) or _in_user_item(node):
            continue
        if "datepublished" in (node.get("itemprop") or "").lower().split() and node.tag != "meta":
            values.append(node.get("datetime") or node.get("content") or node.text_content())
        elif node.tag == "time" and node.get("pubdate") is not None:
            values.append(node.get("datetime") or node.text_content())
    return {day for day in map(parse_day, values) if day}


USER_ITEMS = ("comment", "usercomments", "review", "answer", "question")


def _in_user_item(node) -> bool:
    """The microdata item this element belongs to is a reader's comment, review or answer, not the page's work."""
    for ancestor in node.iterancestors():
        if ancestor.get("itemscope") is not None:
            return (ancestor.get("itemtype") or "").rstrip("/").rsplit("/", 1)[-1].lower() in USER_ITEMS
    return False


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_sets(dirs: list[Path], limit: int | None) -> list[Item]:
    """Every served document with its truth; neardup copies of benchmark pages join those pages' clusters."""
    items: list[Item] = []
    aeb_pages: list[Item] = []
    neardup: Path | None = None
    for data in dirs:
        if (data / "clusters.jsonl").exists():
            neardup = data
            continue
        rows = _rows(data / "ground-truth.jsonl")[:limit]
        for row in rows:
            html = gzip.decompress((data / row["html"]).read_bytes())
            if "articleBody" in row:
                item = Item(key=f"aeb-{row['id'][:16]}", dataset="aeb", body=html, content_type="text/html",
                            truth_body=row["articleBody"], page_dates=stated_dates(html),
                            shingles=set(shingles(row["articleBody"], 5)))
                item.cluster = item.key
                aeb_pages.append(item)
            else:
                meta = row.get("expected_metadata") or {}
                item = Item(key=f"traf-{row['id']}", dataset="traf", body=html, content_type="text/html",
                            segments={"with": row["with"], "without": row["without"]},
                            title=meta.get("title") or None,
                            page_dates=stated_dates(html), annotated_date=parse_day(meta.get("date") or ""))
                item.cluster = item.key
            items.append(item)
    if neardup is not None:
        items.extend(_neardup_items(neardup, aeb_pages, limit))
    return items


def _source_page(body: str, pages: list[Item], share: float = 0.8) -> Item | None:
    """The benchmark page whose true body holds this text: most of its word 5-grams, whatever the
    whitespace and quotes (a prefix test missed originals whose first line was re-wrapped)."""
    own = set(shingles(body, 5))
    if not own:
        return None
    best = max(pages, key=lambda page: len(own & page.shingles), default=None)
    return best if best is not None and len(own & best.shingles) >= share * len(own) else None


def _neardup_items(data: Path, aeb_pages: list[Item], limit: int | None) -> list[Item]:
    files = {p.name.split(".")[0]: p for p in (data / "docs").iterdir()}
    rows = _rows(data / "clusters.jsonl")
    if limit is not None:
        keep = sorted({r["cluster"] for r in rows})[:limit]
        rows = [r for r in rows if r["cluster"] in keep]
    gold: dict[str, str] = {}  # neardup cluster -> served cluster key (the benchmark page's when it is the original)
    out: list[Item] = []
    for row in rows:
        path = files[row["doc"]]
        raw = path.read_bytes()
        text = raw.decode("utf-8", errors="replace")
        is_html = path.suffix == ".html"
        title = None if is_html else text.split("\n", 1)[0].strip() or None
        if row["kind"] == "original":
            body = text.split("\n", 2)[2] if text.count("\n") >= 2 else text
            page = _source_page(body, aeb_pages)
            if page is not None:  # (its first line is no title: the page's own title is unknown here)
                gold[row["cluster"]] = page.cluster
                continue  # the benchmark page is this story's original report
        out.append(Item(key=f"nd-{row['doc']}", dataset="neardup", body=raw,
                        content_type="text/html" if is_html else "text/plain; charset=utf-8",
                        title=title, cluster=row["cluster"], original=row["kind"] in ("original", *HARD_NEGATIVES),
                        page_dates=stated_dates(raw) if is_html else set()))
        out[-1].segments = {"kind": row["kind"]}
    for item in out:
        item.cluster = gold.get(item.cluster, f"nd-{item.cluster}")
    return out


# --- the site ---------------------------------------------------------------------------------


def _rss(items: list[tuple[str, str, datetime | None]]) -> bytes:
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(url)}</link><guid>{escape(url)}</guid>"
        + (f"<pubDate>{format_datetime(date)}</pubDate>" if date else "") + "</item>"
        for url, title, date in items
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>e2e wire</title>'
            f"<link>http://127.0.0.1/</link><description>e2e</description>{body}</channel></rss>").encode()


def _atom(items: list[tuple[str, str, datetime | None]]) -> bytes:
    body = "".join(
        f'<entry><title>{escape(title)}</title><link href="{escape(url)}"/><id>{escape(url)}</id>'
        + (f"<published>{date.isoformat()}</published><updated>{date.isoformat()}</updated>" if date else "")
        + "</entry>"
        for url, title, date in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>e2e syndicate</title><id>urn:e2e</id><updated>{BASE_DATE.isoformat()}</updated>"
            f"{body}</feed>").encode()


def _sitemap(urls: list[tuple[str, datetime | None]]) -> bytes:
    body = "".join(
        f"<url><loc>{escape(url)}</loc><news:news><news:publication><news:name>e2e</news:name>"
        f"<news:language>en</news:language></news:publication>"
        + (f"<news:publication_date>{date.isoformat()}</news:publication_date>" if date else "")
        + f"<news:title>page</news:title></news:news></url>"
        for url, date in urls
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>').encode()


SECTION_PAGE = "<html><head><title>World</title></head><body><ul>" + "".join(
    f'<li><a href="/world/{i}">Headline number {i}</a></li>' for i in range(60)) + "</ul></body></html>"
TRAPS = ("robots", "slow", "huge", "loop", "gone", "non-http", "section")


def build_site(server, items: list[Item], folder: Path) -> dict[str, str]:
    """Register pages, feeds and the sitemap; write the folder. Returns {entry url: item key} for traps too."""
    from support.webserver import Route

    rss, atom, sitemap = [], [], []
    minute = itertools.count()
    copies = [i for i in items if i.dataset == "neardup" and not i.original]
    for n, item in enumerate(items):
        date = BASE_DATE + timedelta(minutes=next(minute))
        if item.dataset == "aeb":
            item.path = f"/news/{item.key}.html"
            server.add(item.path, body=item.body, content_type="text/html; charset=utf-8")
            item.feed_date, item.channel = date, "rss"
            if n % 4 == 1:  # listed through a tracking redirect (feed proxies do this)
                link = f"/go/{item.key}?ref=rss"
                server.redirect(link.split("?")[0], server.url(item.path), status=301)
                item.url = server.url(link)
                item.also.append(server.url(item.path))
            elif n % 4 == 2:
                item.url = server.url(item.path) + "?utm_source=rss&utm_medium=feed"
            else:
                item.url = server.url(item.path)
            rss.append((item.url, f"story {item.key}", date))
            if n % 3 == 0:  # the sitemap lists it too, under its plain URL
                item.also.append(server.url(item.path))
                sitemap.append((server.url(item.path), date))
            elif n % 4 == 2:
                item.also.append(server.url(item.path))
        elif item.dataset == "traf":
            item.path = f"/te/{item.key}.html"
            server.add(item.path, body=item.body, content_type="text/html")
            item.feed_date, item.channel, item.url = date, "atom", server.url(item.path)
            atom.append((item.url, item.title or f"page {item.key}", date))
            if n % 5 == 0:
                sitemap.append((item.url, date))
        elif item.original and item.segments.get("kind") == "original":  # a story the benchmark does not hold
            item.path = f"/stories/{item.key}{'.html' if item.content_type == 'text/html' else '.txt'}"
            server.add(item.path, body=item.body, content_type=item.content_type)
            item.feed_date, item.channel, item.url = date, "rss", server.url(item.path)
            rss.append((item.url, item.title or "story", date))
        elif item.original or copies.index(item) % 2:
            item.channel, item.path = "folder", f"{item.key}{'.html' if item.content_type == 'text/html' else '.txt'}"
            (folder / item.path).write_bytes(item.body)
            item.url = (folder / item.path).resolve().as_uri()
        else:
            item.path = f"/copies/{item.key}{'.html' if item.content_type == 'text/html' else '.txt'}"
            server.add(item.path, body=item.body, content_type=item.content_type)
            item.feed_date, item.channel, item.url = BASE_DATE + COPY_DELAY + timedelta(minutes=n), "atom", \
                server.url(item.path)
            atom.append((item.url, item.title or "copy", item.feed_date))
    traps = {
        "robots": server.url("/private/secret.html"),
        "slow": server.url("/slow.html"),
        "huge": server.url("/huge.html"),
        "loop": server.url("/loop/a"),
        "gone": server.url("/gone.html"),
        "non-http": "file:///etc/passwd",
        "section": server.url("/world/"),
    }
    server.add("/private/secret.html", body="<html><body><p>private</p></body></html>")
    server.add("/slow.html", Route(body="<html><body><p>late</p></body></html>", delay=8.0))
    server.add("/huge.html", Route(size=40_000_000))
    server.redirect("/loop/a", server.url("/loop/b"))
    server.redirect("/loop/b", server.url("/loop/a"))
    server.add("/gone.html", status=410, body="gone")
    server.add("/world/", body=SECTION_PAGE)
    server.robots("User-agent: *\nDisallow: /private/\n")
    rss.extend((url, f"trap {name}", BASE_DATE) for name, url in traps.items())
    sitemap.append((traps["section"], BASE_DATE))
    # No validators: every run reads the feeds again, so the second run exercises the seen-check.
    server.add("/rss.xml", body=_rss(rss), content_type="application/rss+xml; charset=utf-8")
    server.add("/atom.xml", body=_atom(atom), content_type="application/atom+xml; charset=utf-8")
    server.add("/news-sitemap.xml", body=_sitemap(sitemap), content_type="application/xml")
    return {url: name for name, url in traps.items()}


def write_config(path: Path, server, folder: Path, entries: int) -> Path:
    path.write_text(f"""
defaults:
  allowed_networks: [127.0.0.1/32]   # the site is on 127.0.0.1
  rate_limit: 100
  max_concurrency: 4
  retries: 1
  max_items: {entries}
  max_bytes: 5MB
  timeouts: {{connect: 2, read: 3, total: 5}}
  schedule: "@hourly"
sources:
  - name: e2e-rss
    type: feed
    url: {server.url("/rss.xml")}
  - name: e2e-atom
    type: feed
    url: {server.url("/atom.xml")}
  - name: e2e-sitemap
    type: sitemap
    url: {server.url("/news-sitemap.xml")}
  - name: e2e-folder
    type: directory
    path: {folder}
""")
    return path


# --- scoring ---------------------------------------------------------------------------------


def _docs(es, index: str) -> list[dict]:
    from elasticsearch import helpers

    es.indices.refresh(index=index)
    return [hit["_source"] for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}})]


def _match(items: list[Item], docs: list[dict]) -> dict[str, dict]:
    """The indexed document of each item (by the URLs it was listed and served under)."""
    from newswire.urls import canonicalize

    by_url: dict[str, dict] = {}
    for doc in docs:
        for url in [doc.get("url"), doc.get("canonical_url"), *(doc.get("entry_urls") or [])]:
            if url:
                by_url.setdefault(canonicalize(url), doc)
    found = {}
    for item in items:
        for url in [item.url, *item.also]:
            doc = by_url.get(canonicalize(url))
            if doc is not None:
                found[item.key] = doc
                break
    return found


def _date_ok(truth: set[str], published: str | None) -> bool:
    """The indexed date is one of the stated days, read in its own time zone or in UTC."""
    if not published:
        return False
    stamp = datetime.fromisoformat(published.replace("Z", "+00:00"))
    return bool(truth & {published[:10], stamp.astimezone(timezone.utc).date().isoformat()})


def _pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
    groups = defaultdict(list)
    for key, label in labels.items():
        groups[label].append(key)
    return {p for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def score(items: list[Item], docs: list[dict], wrong: dict[str, list[str]] | None = None) -> dict:
    """The scores; ``wrong``, when given, collects a line per miss (by metric) for ``--show-wrong``."""
    wrong = {} if wrong is None else wrong
    found = _match(items, docs)
    out: dict = {"served": len(items), "indexed_true": len(found), "recall": len(found) / len(items)}
    wrong["recall"] = [f"{i.key} ({i.channel}) {i.url}" for i in items if i.key not in found]
    for dataset in ("aeb", "traf", "neardup"):
        subset = [i for i in items if i.dataset == dataset]
        if subset:
            out[f"recall_{dataset}"] = sum(i.key in found for i in subset) / len(subset)
    aeb = [i for i in items if i.dataset == "aeb"]
    if aeb:
        out["f1"] = aggregate([page_counts(i.truth_body, found[i.key]["text"] if i.key in found else "")
                               for i in aeb])["f1"]
    traf = [i for i in items if i.dataset == "traf"]
    if traf:
        out["segment_f1"] = segment_scores([segment_counts(i.segments, found[i.key]["text"] if i.key in found
                                                           else None) for i in traf])["f1"]
    titled = [i for i in items if i.title]
    out["title_exact"] = sum(i.key in found and (found[i.key].get("title") or "").strip() == i.title.strip()
                             for i in titled) / max(1, len(titled))
    out["titles_scored"] = len(titled)
    # Truth: the days the page's markup states, else the day its feed states; pages with neither are not scored.
    dated = [(i, i.page_dates or ({i.feed_date.date().isoformat()} if i.feed_date else set())) for i in items]
    dated = [(i, truth) for i, truth in dated if truth]
    out["date_correct"] = sum(i.key in found and _date_ok(t, found[i.key].get("published")) for i, t in dated) / max(
        1, len(dated))
    out["dates_scored"] = len(dated)
    out["dates_from_page"] = sum(bool(i.page_dates) for i, _ in dated)
    wrong["date"] = [f"{i.key}: truth {'/'.join(sorted(t))} ({'page' if i.page_dates else 'feed'}), indexed "
                     f"{found[i.key].get('published')} ({found[i.key].get('date_source')})"
                     for i, t in dated if i.key in found and not _date_ok(t, found[i.key].get("published"))]
    annotated = [i for i in items if i.annotated_date]  # a second, human truth (trafilatura-eval only)
    out["date_annotation"] = sum(i.key in found and _date_ok({i.annotated_date}, found[i.key].get("published"))
                                 for i in annotated) / max(1, len(annotated))
    out["dates_annotated"] = len(annotated)
    wrong["title"] = [f"{i.key}: truth {i.title!r}, indexed {found[i.key].get('title')!r}" for i in titled
                      if i.key in found and (found[i.key].get("title") or "").strip() != i.title.strip()]
    by_cluster = defaultdict(list)
    for item in items:
        by_cluster[item.cluster].append(item)
    multi = [members for members in by_cluster.values() if len(members) > 1]
    correct = 0
    for members in multi:
        original = next((m for m in members if m.original), None)
        ok = bool(original and original.key in found and found[original.key].get("is_canonical", True))
        correct += ok
        if not ok and original is not None and original.key in found:
            canonical = next((d for d in docs if d["id"] == found[original.key].get("duplicate_of")), {})
            wrong.setdefault("canonical", []).append(
                f"{original.key} ({found[original.key].get('published')}, {found[original.key].get('date_source')}) "
                f"lost to {canonical.get('url')} ({canonical.get('published')}, {canonical.get('date_source')})")
    out["canonical_correct"] = correct / max(1, len(multi))
    out["clusters_scored"] = len(multi)
    indexed = [i for i in items if i.key in found]
    want = _pairs({i.key: i.cluster for i in indexed})
    got = _pairs({i.key: found[i.key].get("cluster_id") or found[i.key]["id"] for i in indexed})
    wrong["pairs"] = [f"merged {a} and {b}" for a, b in sorted(got - want)]
    out["pair_precision"] = len(want & got) / len(got) if got else 1.0
    out["pair_recall"] = len(want & got) / len(want) if want else 1.0
    return out


def plain_trafilatura(items: list[Item]) -> tuple[dict, float]:
    """Plain ``trafilatura.extract`` over the same pages: body F1, segment F1, and its wall time."""
    import trafilatura

    started = time.perf_counter()
    texts = {}
    for item in items:
        if item.content_type.startswith("text/html"):
            texts[item.key] = trafilatura.extract(item.body) or ""
        else:
            texts[item.key] = item.body.decode("utf-8", errors="replace")
    seconds = time.perf_counter() - started
    out = {}
    aeb = [i for i in items if i.dataset == "aeb"]
    if aeb:
        out["f1"] = aggregate([page_counts(i.truth_body, texts[i.key]) for i in aeb])["f1"]
    traf = [i for i in items if i.dataset == "traf"]
    if traf:
        out["segment_f1"] = segment_scores([segment_counts(i.segments, texts[i.key]) for i in traf])["f1"]
    return out, seconds


def run_pipeline(config_path: Path, settings, claims: bool, workers: int):
    from newswire.config import load_config
    from newswire.pipeline import Stages, run_once
    from newswire.workers import PageProcessor

    config = load_config(config_path)
    if claims:
        with Stages.load(workers=workers) as stages:
            return run_once(config, settings, stages=stages)
    with Stages(processor=PageProcessor(None, workers=workers)) as stages:
        return run_once(config, settings, stages=stages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="dataset folder (repeatable; default: DEV sets)")
    parser.add_argument("--limit", type=int, help="at most N pages (or clusters) per dataset")
    parser.add_argument("--claims", action="store_true", help="score claims too (slow; no metric depends on it)")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (default 2)")
    parser.add_argument("--show-wrong", type=int, default=0, metavar="N", help="print N misses per metric")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of starting one (its e2e-* indices are replaced)")
    args = parser.parse_args(argv)
    dirs = args.data or DEFAULT_DATA

    from newswire import es_local
    from newswire.settings import Settings
    from support.webserver import WebServer

    items = load_sets(dirs, args.limit)
    plain, plain_seconds = plain_trafilatura(items)
    with tempfile.TemporaryDirectory() as tmp, WebServer() as server:
        folder = Path(tmp) / "folder"
        folder.mkdir()
        traps = build_site(server, items, folder)
        config = write_config(Path(tmp) / "sources.yaml", server, folder, entries=len(items) + len(traps) + 10)

        def measure(es_url: str) -> int:
            from elasticsearch import Elasticsearch

            settings = Settings(es_url=es_url, index_prefix=PREFIX, sources_path=config)
            es = Elasticsearch(es_url, request_timeout=60)
            es.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, allow_no_indices=True,
                              expand_wildcards="all")
            started = time.perf_counter()
            first = run_pipeline(config, settings, args.claims, args.workers)
            first_seconds = time.perf_counter() - started
            for path in folder.iterdir():  # the folder changed: its listing is read again
                os.utime(path)
            second = run_pipeline(config, settings, args.claims, args.workers)
            docs = _docs(es, f"{PREFIX}-articles")
            runs = _docs(es, f"{PREFIX}-runs")
            es.close()
            first_summary = next(d for d in runs if d.get("kind") == "run" and d["run_id"] == first.run_id)
            second_summary = next(d for d in runs if d.get("kind") == "run" and d["run_id"] == second.run_id)
            wrong: dict[str, list[str]] = {}
            scores = score(items, docs, wrong)
            report_minus_index = {
                "indexed": first_summary["indexed"] + second_summary["indexed"] - len(docs),
                "duplicates": first_summary["duplicates"] - sum(1 for d in docs if d.get("is_canonical") is False),
            }
            _print(items, scores, plain, plain_seconds, first, second, first_seconds, report_minus_index, traps)
            for metric, lines in wrong.items() if args.show_wrong else ():
                print(f"-- {metric}: {len(lines)} misses")
                for line in lines[: args.show_wrong]:
                    print(f"   {line}")
            return 0

        if args.es_url:
            return measure(args.es_url)
        with es_local.running_server(heap="1g") as info:
            return measure(info.url)


def _print(items, scores, plain, plain_seconds, first, second, first_seconds, report_minus_index, traps) -> None:
    counts = defaultdict(int)
    for item in items:
        counts[f"{item.dataset}/{item.channel}"] += 1
    print(f"served: {len(items)} documents ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) "
          f"+ {len(traps)} trap items")
    print(f"article recall               {scores['recall']:.3f}  ({scores['indexed_true']}/{scores['served']}; "
          + ", ".join(f"{k.split('_')[1]} {v:.3f}" for k, v in scores.items() if k.startswith("recall_")) + ")")
    if "f1" in scores:
        print(f"body F1, e2e (missing = 0)   {scores['f1']:.3f}   plain trafilatura {plain['f1']:.3f}   "
              f"delta {scores['f1'] - plain['f1']:+.3f}  (article-extraction-benchmark pages)")
    if "segment_f1" in scores:
        print(f"segment F1, e2e              {scores['segment_f1']:.3f}   plain trafilatura {plain['segment_f1']:.3f}"
              f"   delta {scores['segment_f1'] - plain['segment_f1']:+.3f}  (trafilatura-eval pages)")
    print(f"title exact match            {scores['title_exact']:.3f}  ({scores['titles_scored']} with a title)")
    print(f"date correct                 {scores['date_correct']:.3f}  ({scores['dates_scored']} with a page or "
          f"feed date; {scores['dates_from_page']} from the page's markup)")
    if scores["dates_annotated"]:
        print(f"date = annotation            {scores['date_annotation']:.3f}  ({scores['dates_annotated']} trafilatura-eval "
              f"pages with an annotated date)")
    print(f"canonical correct            {scores['canonical_correct']:.3f}  ({scores['clusters_scored']} clusters "
          f"with copies)")
    print(f"cluster pairs                precision {scores['pair_precision']:.3f}  recall {scores['pair_recall']:.3f}")
    print(f"run report - index           indexed {report_minus_index['indexed']:+d}  "
          f"duplicates {report_minus_index['duplicates']:+d}")
    print(f"second run                   article fetches {sum(r.fetched for r in second.sources)}  "
          f"indexed {sum(r.indexed for r in second.sources)}")
    print(f"wall time                    pipeline {first_seconds:.1f} s  plain trafilatura {plain_seconds:.1f} s  "
          f"ratio {first_seconds / max(plain_seconds, 1e-9):.2f}")
    for report in first.sources:
        reasons = defaultdict(int)
        for outcome in report.failed + report.skipped:
            reasons[outcome.reason] += 1
        print(f"  run 1 {report.source:<12} {report.status:<8} seen {report.seen:>4} fetched {report.fetched:>4} "
              f"indexed {report.indexed:>4} dups {report.duplicates:>3}  "
              + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))


if __name__ == "__main__":
    sys.exit(main())
