"""The hostile cases, each run in a child process under ``hostile_inputs.run_bounded``'s limits.

    python tests/support/hostile_child.py CASE [ES_URL INDEX_PREFIX]

Each case serves its input from a real HTTP server on 127.0.0.1 (started here, inside the
limits) or feeds it to the real parser, and prints one JSON line with what came out.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for ``support``

from support.hostile_inputs import (  # noqa: E402
    BAD_URLS, STACKED_GZIP, entity_feed, nested_json_feed, regex_paragraph_page, rss,
)
from support.newssite import PAGES  # noqa: E402
from support.webserver import Route, WebServer  # noqa: E402

LOCAL = ["127.0.0.1/32"]


def page(n: int) -> str:
    return gzip.decompress(sorted(PAGES.glob("*.html.gz"))[n].read_bytes()).decode("utf-8", "replace")


def peak_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM), in MB.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: that keeps the peak of the forked parent from before
    the exec, so under a big pytest process every case read about 700 MB.
    """
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def case_stacked_gzip() -> dict:
    """The 2 GiB double-gzip body as a page, as robots.txt, as a feed; a plain page beside it."""
    from newswire.fetch import Fetcher, FetchError, FetchPolicy

    bomb = STACKED_GZIP.read_bytes()
    out: dict = {}
    with WebServer() as server:
        server.add("/bomb.html", body=bomb, headers={"Content-Encoding": "gzip, gzip"})
        server.add("/single.html", body=gzip.decompress(bomb), headers={"Content-Encoding": "gzip"})  # 2 MB -> 2 GiB
        server.add("/good.html", body=gzip.compress(page(0).encode()), headers={"Content-Encoding": "gzip"})
        server.add("/robots.txt", body=bomb, content_type="text/plain", headers={"Content-Encoding": "gzip, gzip"})
        policy = FetchPolicy(allowed_networks=tuple(LOCAL), rate_limit=100, max_bytes=5_000_000)
        with Fetcher(policy) as fetcher:
            for path in ("/bomb.html", "/single.html", "/good.html"):
                try:
                    got = fetcher.get(server.url(path))
                    out[path] = {"status": got.status, "bytes": len(got.body)}
                except FetchError as exc:
                    out[path] = {"reason": exc.reason, "detail": exc.detail}
    out["peak_mb"] = peak_mb()
    return out


def case_entities() -> dict:
    """Feeds of 130 kB and 300 kB declaring one entity referenced everywhere, two good items in each."""
    from newswire.sources.feed import parse_feed

    out: dict = {}
    for size in (130_000, 300_000):
        body = entity_feed(size, ["https://news.example.org/a", "https://news.example.org/b"])
        started = time.perf_counter()
        parsed = parse_feed(body, url="https://news.example.org/feed.xml", headers={"content-type": "application/rss+xml"})
        out[str(size)] = {
            "links": [e.url for e in parsed.entries],
            "longest_summary": max((len(e.summary or "") for e in parsed.entries), default=0),
            "problem": parsed.problem,
            "seconds": round(time.perf_counter() - started, 2),
        }
    out["peak_mb"] = peak_mb()
    return out


def case_pipeline(es_url: str, prefix: str) -> dict:
    """Every source-level case through the real pipeline into the real Elasticsearch, good items beside each."""
    from newswire import pipeline
    from newswire.config import parse_config
    from newswire.index.state import load_state
    from newswire.models import to_dict
    from newswire.settings import Settings
    from newswire.workers import PageProcessor

    folder = Path(tempfile.mkdtemp(prefix="hostile-dir-"))
    (folder / "story.html").write_text(page(6), encoding="utf-8")
    os.symlink("/etc/hostname", folder / "outside.txt")

    with WebServer() as server:
        for n in range(6):
            server.add(f"/good-{n}.html", body=page(n))
        server.add("/bomb.html", body=STACKED_GZIP.read_bytes(), headers={"Content-Encoding": "gzip, gzip"})
        server.redirect("/to-metadata.html", "http://169.254.169.254/latest/meta-data/")
        server.add("/regex.html", body=regex_paragraph_page(60_000))
        feed_links = [server.url(p) for p in ("/good-0.html", "/bomb.html", "/to-metadata.html", "/regex.html")]
        server.add("/feed.xml", body=rss([(f"item {i}", link) for i, link in enumerate(feed_links + list(BAD_URLS))]),
                   content_type="application/rss+xml")
        server.add("/entities.xml", body=entity_feed(130_000, [server.url("/good-1.html")], server.url("/not-there.html")),
                   content_type="application/rss+xml")
        server.add("/nested.json", body=nested_json_feed(), content_type="application/feed+json")
        server.add("/objects.json", content_type="application/feed+json", body=json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": {"an": "object"},
            "items": [{"id": {"x": 1}, "title": {"not": "a string"}},
                      {"id": "2", "url": server.url("/good-2.html"), "title": ["a", "list"]}]}))
        server.add("/index.xml", content_type="application/xml", body=(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{server.url('/child.xml')}</loc></sitemap>"
            "<sitemap><loc>http://a..b/sitemap.xml</loc></sitemap>"
            "<sitemap><loc>http://0177.0.0.1/sitemap.xml</loc></sitemap></sitemapindex>"))
        server.add("/child.xml", content_type="application/xml", body=(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{server.url('/good-3.html')}</loc></url><url><loc>http://\u2603.example/x</loc></url></urlset>"))
        flood = "".join(f"<url><loc>ftp://files.example.org/{i}</loc></url>" for i in range(80_000))
        server.add("/flood.xml", content_type="application/xml", body=(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{server.url('/good-4.html')}</loc></url>{flood}</urlset>"))

        config = parse_config({
            "defaults": {"allowed_networks": LOCAL, "rate_limit": 100, "retries": 1, "max_retry_wait": 1,
                         "page_timeout": 10, "timeouts": {"connect": 2, "read": 5, "total": 10}},
            "sources": [
                {"name": "feed", "type": "feed", "url": server.url("/feed.xml")},
                {"name": "entities", "type": "feed", "url": server.url("/entities.xml")},
                {"name": "nested", "type": "feed", "url": server.url("/nested.json")},
                {"name": "objects", "type": "feed", "url": server.url("/objects.json")},
                {"name": "sitemap", "type": "sitemap", "url": server.url("/index.xml")},
                {"name": "flood", "type": "sitemap", "url": server.url("/flood.xml"), "max_bytes": "20MB"},
                {"name": "folder", "type": "directory", "path": str(folder)},
            ],
        }, base_dir=folder)
        settings = Settings(es_url=es_url, index_prefix=prefix)
        pipeline.prepare_indices(settings)
        started = datetime.now(timezone.utc)
        reports = []
        with pipeline.Stages(processor=PageProcessor(None)) as stages:
            for source in config.sources:
                t0 = time.perf_counter()
                report = pipeline.ingest_source(source, settings, stages=stages)
                reports.append(report)
                print(f"{source.name}: {report.status} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        run = pipeline.write_report(settings, pipeline.new_run_id(started), started, reports)
        with settings.es_client() as es:
            nested_state = to_dict(load_state(es, "nested", prefix))
        served = {server.url(f"/good-{n}.html"): n for n in range(6)}
    return {
        "run_id": run.run_id,
        "served": served,
        "reports": {r.source: {"status": r.status, "error": r.error, "indexed": r.indexed,
                               "failed": [(o.url, o.reason, o.detail) for o in r.failed[:50]],
                               "failed_count": len(r.failed),
                               "skipped": [(o.url, o.reason) for o in r.skipped[:50]]} for r in reports},
        "nested_state": nested_state,
        "peak_mb": peak_mb(),
    }


def main(argv: list[str]) -> int:
    case = argv[0]
    started = time.perf_counter()
    result = {"case_pipeline": lambda: case_pipeline(argv[1], argv[2]),
              "case_stacked_gzip": case_stacked_gzip, "case_entities": case_entities}[f"case_{case}"]()
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
