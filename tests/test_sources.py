"""Sources end to end against a real server on 127.0.0.1: feeds, sitemaps, folders, state, refusals."""

from __future__ import annotations

import gzip
import json
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from support.webserver import web_server  # noqa: F401

from newswire.config import SourceConfig
from newswire.fetch import Fetcher, FetchPolicy
from newswire.models import SourceState
from newswire.sources import discover, read_entry
from newswire.sources.feed import FeedError, parse_feed
from newswire.urls import canonicalize, prefer_canonical

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "feeds" / "corpus"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
RSS_TYPE = "application/rss+xml; charset=utf-8"


def rss(items: list[tuple[str, str, datetime | None]], title: str = "Test wire") -> str:
    """An RSS 2.0 document; items are (title, link, published)."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>']
    for i, (item_title, link, published) in enumerate(items):
        date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        parts.append(f"<item><title>{escape(item_title)}</title><link>{escape(link)}</link><guid>g{i}</guid>{date}</item>")
    return "".join(parts) + "</channel></rss>"


def source(name: str = "wire", **fields) -> SourceConfig:
    fields.setdefault("type", "feed")
    return SourceConfig(name=name, **fields)


def local_fetcher(**overrides) -> Fetcher:
    """Tests serve from 127.0.0.1 and must allow it explicitly (only that address)."""
    policy = dict(allowed_networks=("127.0.0.1/32",), rate_limit=200, backoff_base=0.02, retries=1)
    return Fetcher(FetchPolicy(**{**policy, **overrides}))


def article_pages(server, count: int) -> list[tuple[str, str, datetime]]:
    items = []
    for i in range(count):
        server.add(f"/news/{i}.html", body=f"<html><title>Story {i}</title><p>Body {i}</p></html>")
        items.append((f"Story {i}", server.url(f"/news/{i}.html"), NOW - timedelta(minutes=i)))
    return items


def article_hits(server) -> int:
    return sum(1 for r in server.requests if r.route.startswith("/news/"))


# ----------------------------------------------------------------- incremental runs


def test_second_run_of_unchanged_feed_is_conditional_304_and_fetches_no_article(web_server):
    items = article_pages(web_server, 30)
    web_server.add("/feed.xml", body=rss(items), content_type=RSS_TYPE, etag='"feed-v1"',
                   last_modified="Sat, 01 Mar 2025 11:00:00 GMT")
    wire = source(url=web_server.url("/feed.xml"), allowed_networks=("127.0.0.1/32",))
    with local_fetcher() as fetcher:  # run 1
        first = discover(wire, SourceState(source="wire"), fetcher, NOW)
        pages = fetcher.fetch_many([e.url for e in first.entries])
    assert not first.not_modified and len(first.entries) == 30 and first.seen == 30
    assert all(p.status == 200 for p in pages) and article_hits(web_server) == 30
    assert (first.new_state.etag, first.new_state.last_modified) == ('"feed-v1"', "Sat, 01 Mar 2025 11:00:00 GMT")
    assert first.new_state.last_success == NOW and first.new_state.body_hash

    with local_fetcher() as fetcher:  # run 2, an hour later: only entries it announces would be fetched
        second = discover(wire, first.new_state, fetcher, NOW + timedelta(hours=1))
        fetcher.fetch_many([e.url for e in second.entries])
    conditional = web_server.requests_for("/feed.xml")[-1]
    assert conditional.headers["if-none-match"] == '"feed-v1"'
    assert conditional.headers["if-modified-since"] == "Sat, 01 Mar 2025 11:00:00 GMT"
    assert second.not_modified and second.entries == [] and second.error is None
    assert article_hits(web_server) == 30  # no article fetched again
    assert second.new_state.etag == '"feed-v1"' and second.new_state.last_success == NOW + timedelta(hours=1)


def test_stale_etag_guard_fetches_unconditionally_after_the_configured_age(web_server):
    # A server that keeps the same ETag (and so answers 304) after its feed changed.
    web_server.add("/feed.xml", body=rss([("Old", "https://news.example.org/old", NOW)]), content_type=RSS_TYPE,
                   etag='"forever"')
    wire = source(url=web_server.url("/feed.xml"), unconditional_after=timedelta(hours=6))
    with local_fetcher() as fetcher:
        first = discover(wire, None, fetcher, NOW)
        assert first.new_state.last_unconditional_fetch == NOW
        web_server.add("/feed.xml", body=rss([("New", "https://news.example.org/new", NOW)]), content_type=RSS_TYPE,
                       etag='"forever"')
        soon = discover(wire, first.new_state, fetcher, NOW + timedelta(hours=1))
        later = discover(wire, soon.new_state, fetcher, NOW + timedelta(hours=7))
    assert soon.not_modified  # fooled by the stale ETag, within the window
    headers = [r.headers.get("if-none-match") for r in web_server.requests_for("/feed.xml")]
    assert headers == [None, '"forever"', None]  # the third request was deliberately unconditional
    assert not later.not_modified and [e.url for e in later.entries] == ["https://news.example.org/new"]
    assert later.new_state.last_unconditional_fetch == NOW + timedelta(hours=7)


def test_same_body_without_validators_is_not_modified(web_server):
    web_server.add("/feed.xml", body=rss([("A", "https://news.example.org/a", NOW)]), content_type=RSS_TYPE)
    wire = source(url=web_server.url("/feed.xml"))
    with local_fetcher() as fetcher:
        first = discover(wire, None, fetcher, NOW)
        again = discover(wire, first.new_state, fetcher, NOW + timedelta(hours=1))
        web_server.add("/feed.xml", body=rss([("B", "https://news.example.org/b", NOW)]), content_type=RSS_TYPE)
        changed = discover(wire, again.new_state, fetcher, NOW + timedelta(hours=2))
    assert len(first.entries) == 1 and again.not_modified and again.entries == []
    assert [e.title for e in changed.entries] == ["B"]


def test_max_items_keeps_the_newest_and_drops_repeats(web_server):
    items = [(f"S{i}", f"https://news.example.org/s/{i}?utm_source=rss", NOW - timedelta(hours=i)) for i in range(50)]
    items.insert(3, ("S3 again", "https://NEWS.example.org/s/3#comments", NOW - timedelta(hours=3)))  # same story
    web_server.add("/feed.xml", body=rss(items[::-1]), content_type=RSS_TYPE)  # oldest first in the file
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/feed.xml"), max_items=10), None, fetcher, NOW)
    assert found.seen == 51
    assert [e.title for e in found.entries] == ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]


# ----------------------------------------------------------------- refusals and failures


def test_entries_pointing_at_private_addresses_or_files_are_refused_and_reported(web_server, monkeypatch):
    connected: list[str] = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda s, a: (connected.append(a[0]), real_connect(s, a))[1])
    bad = [
        web_server.url("/news/local.html"),
        "http://10.0.0.1/internal/report.html",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "file:///etc/passwd",
        "http://localhost/admin",
    ]
    items = [("ok", "https://news.example.org/fine.html", NOW)] + [(f"bad {i}", u, NOW) for i, u in enumerate(bad)]
    web_server.add("/feed.xml", body=rss(items), content_type=RSS_TYPE)
    wire = source(url=web_server.url("/feed.xml"))  # allowed_networks left at its default: none
    with local_fetcher() as fetcher:
        found = discover(wire, None, fetcher, NOW)
        pages = fetcher.fetch_many([e.url for e in found.entries if e.url.startswith("http://127.")])
    assert [e.url for e in found.entries] == ["https://news.example.org/fine.html"]
    assert [o.reason for o in found.errors] == ["private-address"] * 3 + ["bad-scheme", "private-address"]
    assert [o.url for o in found.errors][:3] == bad[:3] and found.errors[3].url.startswith("file:")
    assert found.error is None and pages == []
    assert set(connected) == {"127.0.0.1"}  # only the feed itself was requested
    assert web_server.hits("/news/local.html") == 0

    with local_fetcher() as fetcher:  # a source allowing 127.0.0.1/32 keeps loopback targets only, never file://
        allowed = discover(source(url=web_server.url("/feed.xml"), allowed_networks=("127.0.0.1/32",)), None, fetcher, NOW)
    assert {e.url for e in allowed.entries} == {"https://news.example.org/fine.html", bad[0], bad[4]}  # a name: checked at connect
    assert [(o.url, o.reason) for o in allowed.errors[:2]] == [(bad[1], "private-address"), (bad[2], "private-address")]
    assert [o.reason for o in allowed.errors[2:]] == ["bad-scheme"]


def test_one_broken_source_does_not_stop_the_others(web_server):
    web_server.add("/html-not-feed", body="<html><body><p>Hello</p></body></html>", content_type="text/html")
    web_server.add("/garbage", body=b"\x00\x01\x02 nothing at all", content_type="application/rss+xml")
    web_server.add("/down.xml", status=500, body="oops")
    web_server.add("/good.xml", body=rss([("fine", "https://news.example.org/fine", NOW)]), content_type=RSS_TYPE)
    web_server.add("/slow.xml", body=rss([]), content_type=RSS_TYPE, delay=2)
    sources = [
        source("html", url=web_server.url("/html-not-feed")),
        source("garbage", url=web_server.url("/garbage")),
        source("down", url=web_server.url("/down.xml")),
        source("slow", url=web_server.url("/slow.xml")),
        source("good", url=web_server.url("/good.xml")),
    ]
    results = {}
    with local_fetcher(read_timeout=0.3, retries=1) as fetcher:
        for s in sources:
            results[s.name] = discover(s, SourceState(source=s.name, consecutive_failures=2), fetcher, NOW)
    assert results["html"].error in ("not-a-feed", "unparseable-feed")
    assert results["garbage"].error in ("not-a-feed", "unparseable-feed")
    assert results["down"].error == "http-500" and results["slow"].error == "timeout"
    for name in ("html", "garbage", "down", "slow"):
        state = results[name].new_state
        assert state.consecutive_failures == 3 and state.last_error.startswith(results[name].error)
        assert state.next_allowed_fetch == NOW + timedelta(minutes=20)  # 5 min doubling: 5, 10, 20
        assert results[name].errors[0].url == str(sources[[s.name for s in sources].index(name)].url)
    good = results["good"]
    assert good.error is None and [e.title for e in good.entries] == ["fine"]
    assert good.new_state.consecutive_failures == 0 and good.new_state.next_allowed_fetch is None

    hits = web_server.hits("/down.xml")
    with local_fetcher() as fetcher:  # before next_allowed_fetch: nothing is requested
        waiting = discover(sources[2], results["down"].new_state, fetcher, NOW + timedelta(minutes=5))
    assert waiting.skipped == "backoff" and web_server.hits("/down.xml") == hits
    disabled = discover(source("off", url=web_server.url("/good.xml"), enabled=False), None, None, NOW)
    assert disabled.skipped == "disabled"


def test_retry_after_on_a_feed_pushes_its_next_fetch(web_server):
    web_server.add("/feed.xml", status=429, headers={"Retry-After": "7200"})
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/feed.xml")), None, fetcher, NOW)
    assert found.error == "http-429" and found.new_state.next_allowed_fetch == NOW + timedelta(hours=2)
    assert web_server.hits("/feed.xml") == 1


def test_robots_disallowed_feed_is_a_clear_source_error(web_server):
    web_server.robots("User-agent: *\nDisallow: /feeds/\n")
    web_server.add("/feeds/all.xml", body=rss([]), content_type=RSS_TYPE)
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/feeds/all.xml")), None, fetcher, NOW)
    assert found.error == "robots-disallowed" and web_server.hits("/feeds/all.xml") == 0


def test_wrong_charset_declaration_in_a_feed_is_recovered(web_server):
    body = rss([("Reunião em São Paulo às três", "https://news.example.org/sp", NOW)]).encode("latin-1")
    web_server.add("/latin.xml", body=body, content_type=RSS_TYPE)  # says utf-8 twice, is Latin-1
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/latin.xml")), None, fetcher, NOW)
    assert [e.title for e in found.entries] == ["Reunião em São Paulo às três"]
    assert found.error is None and "CharacterEncodingOverride" in found.warning


def test_bozo_feed_entries_are_used(web_server):
    body = (CORPUS / "illformed" / "rss_item_link_corrupted_ampersands.xml").read_bytes()
    web_server.add("/bozo.xml", body=body, content_type="application/rss+xml")
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/bozo.xml"), allowed_networks=("127.0.0.1/32",)), None, fetcher, NOW)
    assert found.error is None and found.entries and found.warning


def test_json_feed(web_server):
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON wire",
        "items": [
            {"id": "1", "url": "https://news.example.org/j1", "title": "J1", "date_published": "2025-03-01T10:00:00Z"},
            {"id": "2", "external_url": "https://news.example.org/j2", "summary": "s"},
            {"id": "3", "title": "no link"},
        ],
    }
    web_server.add("/feed.json", body=json.dumps(feed), content_type="application/feed+json")
    with local_fetcher() as fetcher:
        found = discover(source(url=web_server.url("/feed.json")), None, fetcher, NOW)
    assert [e.url for e in found.entries] == ["https://news.example.org/j1", "https://news.example.org/j2"]
    assert found.entries[0].published == datetime(2025, 3, 1, 10, tzinfo=timezone.utc)
    assert [(o.url, o.reason) for o in found.errors] == [("3", "no-link")]


# ----------------------------------------------------------------- the feedparser corpus (subset)


def corpus_rows() -> list[dict]:
    return [json.loads(line) for line in (CORPUS / "index.jsonl").open(encoding="utf-8")]


@pytest.mark.parametrize("row", corpus_rows(), ids=lambda r: r["path"])
def test_corpus_file_gives_its_documented_outcome(row):
    body = (CORPUS / row["path"]).read_bytes()
    headers = {k.lower(): v for k, v in (row["http_headers"] or {}).items()}
    try:
        parsed = parse_feed(body, url="http://feeds.example.org/" + row["path"], headers=headers, source="c")
    except FeedError as exc:
        assert row["expected"] == "clear-error", exc
        assert exc.reason in ("not-a-feed", "unparseable-feed") and exc.detail
        return
    outcome = ("recovered" if parsed.problem else "ok") + ("" if parsed.entries else "-empty")
    assert outcome == row["expected"]
    assert all(e.url.startswith("http") and e.source == "c" for e in parsed.entries)


def test_no_feed_bytes_are_ever_treated_as_a_path_or_url(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text(rss([("leak", "https://news.example.org/leak", NOW)]))
    with pytest.raises(FeedError):  # feedparser.parse(bytes) would open this path and return "leak"
        parse_feed(str(secret).encode(), url="https://news.example.org/rss")


# ----------------------------------------------------------------- sitemaps


def urlset(urls: list[tuple[str, str | None, str | None]]) -> str:
    body = "".join(
        f"<url><loc>{loc}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + (f"<news:news><news:publication><news:name>Example</news:name><news:language>en</news:language>"
           f"</news:publication><news:publication_date>{pub}</news:publication_date><news:title>T {loc[-1]}"
           f"</news:title></news:news>" if pub else "")
        + "</url>"
        for loc, lastmod, pub in urls
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>')


def test_news_sitemap_index_and_urlset(web_server):
    web_server.add("/sitemap-new.xml", body=urlset([
        ("https://news.example.org/a1", None, "2025-03-01T11:00:00+01:00"),
        ("https://news.example.org/a2", "2025-03-01", None),
    ]), content_type="application/xml")
    web_server.add("/sitemap-gz.xml.gz", body=gzip.compress(urlset([("https://news.example.org/g1", None, None)]).encode()),
                   content_type="application/gzip")
    web_server.add("/sitemap-old.xml", body=urlset([("https://news.example.org/old", None, None)]))
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{web_server.url('/sitemap-new.xml')}</loc><lastmod>2025-03-01T11:30:00Z</lastmod></sitemap>"
        f"<sitemap><loc>{web_server.url('/sitemap-gz.xml.gz')}</loc></sitemap>"
        f"<sitemap><loc>{web_server.url('/sitemap-old.xml')}</loc><lastmod>2024-01-01</lastmod></sitemap>"
        "<sitemap><loc>http://169.254.169.254/sitemap.xml</loc></sitemap>"
        "</sitemapindex>"
    )
    web_server.add("/sitemap.xml", body=index, content_type="application/xml", etag='"i1"')
    # The source allows private targets (its children live on 127.0.0.1); the fetcher still only
    # allows 127.0.0.1, so the metadata-address child is refused when fetched, without connecting.
    site = source("site", type="sitemap", url=web_server.url("/sitemap.xml"), allowed_networks=("127.0.0.1/32",))
    state = SourceState(source="site", last_success=NOW - timedelta(days=1))  # the 2024 child is older: skipped
    with local_fetcher() as fetcher:
        found = discover(site, state, fetcher, NOW)
        again = discover(site, found.new_state, fetcher, NOW + timedelta(minutes=30))
    by_url = {e.url: e for e in found.entries}
    assert set(by_url) == {"https://news.example.org/a1", "https://news.example.org/a2", "https://news.example.org/g1"}
    a1 = by_url["https://news.example.org/a1"]
    assert a1.published == datetime(2025, 3, 1, 10, tzinfo=timezone.utc) and a1.title == "T 1"
    assert a1.site_name == "Example" and a1.language == "en"
    assert by_url["https://news.example.org/a2"].published == datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert web_server.hits("/sitemap-old.xml") == 0
    assert [(o.url, o.reason) for o in found.errors] == [("http://169.254.169.254/sitemap.xml", "private-address")]
    assert again.not_modified and web_server.requests_for("/sitemap.xml")[-1].headers["if-none-match"] == '"i1"'


def test_sitemap_entities_are_not_expanded(web_server):
    evil = (
        '<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/hostname">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://news.example.org/p&c;</loc></url><url><loc>https://news.example.org/q&x;</loc></url></urlset>"
    )
    web_server.add("/evil.xml", body=evil, content_type="application/xml")
    with local_fetcher() as fetcher:
        found = discover(source("evil", type="sitemap", url=web_server.url("/evil.xml")), None, fetcher, NOW)
    assert [e.url for e in found.entries] == ["https://news.example.org/p", "https://news.example.org/q"]


def test_not_a_sitemap_is_a_clear_error(web_server):
    web_server.add("/page.html", body="<html><body>hi</body></html>")
    with local_fetcher() as fetcher:
        found = discover(source("s", type="sitemap", url=web_server.url("/page.html")), None, fetcher, NOW)
    assert found.error == "not-a-sitemap"


# ----------------------------------------------------------------- directories


def test_seeds_directory_uses_its_manifest():
    seeds = source("seeds", type="directory", path=REPO / "seeds", language="en")
    found = discover(seeds, None, None, NOW)
    manifest = json.loads((REPO / "seeds" / "manifest.json").read_text())["files"]
    assert len(found.entries) == 5 and found.errors == []
    for entry in found.entries:
        meta = manifest[Path(entry.path).name]
        assert entry.url == meta["url"] and entry.site_name == meta["site_name"]
        assert entry.published == datetime.fromisoformat(meta["published"]) and entry.language == "en"
    page = read_entry(found.entries[0])
    assert page.status == 200 and page.headers["content-type"] == "text/plain" and len(page.body) > 100
    again = discover(seeds, found.new_state, None, NOW + timedelta(hours=1))
    assert again.not_modified and again.entries == []


def test_directory_without_manifest_and_a_missing_directory(tmp_path):
    (tmp_path / "a.html").write_text("<p>a</p>")
    (tmp_path / "b.md").write_text("# b")
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("c")
    found = discover(source("local", type="directory", path=tmp_path), None, None, NOW)
    assert [Path(e.path).relative_to(tmp_path).as_posix() for e in found.entries] == ["a.html", "b.md", "sub/c.txt"]
    assert all(e.url.startswith("file://") for e in found.entries)
    (tmp_path / "d.txt").write_text("new file")
    changed = discover(source("local", type="directory", path=tmp_path), found.new_state, None, NOW + timedelta(hours=1))
    assert len(changed.entries) == 4
    missing = discover(source("gone", type="directory", path=tmp_path / "nope"), None, None, NOW)
    assert missing.error == "missing-directory" and missing.new_state.consecutive_failures == 1


# ----------------------------------------------------------------- canonical URLs


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://News.Example.ORG:443/a/b?utm_source=rss&id=3&fbclid=x#top", "https://news.example.org/a/b?id=3"),
        ("https://news.example.org/a?b=2&a=1&gclid=z", "https://news.example.org/a?a=1&b=2"),
        ("http://news.example.org:80/x/", "http://news.example.org/x/"),
        ("file:///etc/passwd", "file:///etc/passwd"),
    ],
)
def test_canonicalize(url, canonical):
    assert canonicalize(url) == canonical


def test_prefer_canonical_link():
    page = "https://www.example.co.uk/news/story-1?utm_campaign=x"
    assert prefer_canonical(page, "/news/story-1-full") == "https://www.example.co.uk/news/story-1-full"
    assert prefer_canonical(page, "https://amp.example.co.uk/news/s1") == "https://amp.example.co.uk/news/s1"
    assert prefer_canonical(page, None) == "https://www.example.co.uk/news/story-1"
    assert prefer_canonical(page, "/") == "https://www.example.co.uk/news/story-1"  # home page: a CMS mistake
    assert prefer_canonical(page, "https://evil.example.net/x") == "https://www.example.co.uk/news/story-1"
    assert prefer_canonical(page, "https://evil.example.net/x", allow_cross_site=True) == "https://evil.example.net/x"
    assert prefer_canonical(page, "javascript:alert(1)") == "https://www.example.co.uk/news/story-1"


def test_a_non_http_link_is_reported_as_the_feed_spells_it():
    from newswire.sources.feed import parse_feed

    body = (b'<rss version="2.0"><channel><title>t</title><item><link>file:///etc/passwd</link></item>'
            b"<item><link>/a.html</link></item></channel></rss>")
    entries = parse_feed(body, url="http://127.0.0.1:8000/feed.xml", source="s").entries
    assert [e.url for e in entries] == ["file:///etc/passwd", "http://127.0.0.1:8000/a.html"]
