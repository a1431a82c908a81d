"""The feed watcher against a real HTTP server on 127.0.0.1: what fires, when it polls, how politely.

The watcher's clock is a fake one that each test moves forward, so "the next poll is due" is
decided without waiting; the HTTP traffic, conditional GETs, robots.txt and rate limiting are real.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
import yaml

from newswire.config import parse_config
from newswire.watch.interval import Bounds, adapt, cache_lifetime, wait_after_failure
from newswire.watch.watcher import FeedWatcher
from support.webserver import Route


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rss(*slugs: str, base: str = "http://127.0.0.1") -> str:
    items = "".join(
        f"<item><title>Story {s}</title><link>{base}/news/{s}.html</link><guid>{base}/news/{s}.html</guid></item>"
        for s in slugs
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{base}/</link>{items}</channel></rss>'


def sources(tmp_path: Path, *entries: dict, defaults: dict | None = None):
    data = {
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 50, "failure_backoff": "10s",
                     "max_failure_backoff": "80s", "watch": {"min_interval": "10s", "max_interval": "100s"},
                     **(defaults or {})},
        "sources": [{"type": "feed", **e} for e in entries],
    }
    return parse_config(data, base_dir=tmp_path).sources


def feed(web_server, path: str, *slugs: str, etag: str, **route) -> str:
    return web_server.add(path, Route(body=rss(*slugs, base=web_server.base_url), content_type="application/rss+xml",
                                      etag=etag, **route))


def poll(watcher: FeedWatcher, clock: FakeClock, advance: float | None = None):
    """Move the clock to the earliest due poll (or by ``advance``) and poll what is due."""
    clock.now = min(watcher.due.values()) if advance is None else clock.now + advance
    return asyncio.run(watcher.poll_due())


@pytest.fixture
def clock():
    return FakeClock()


def test_unchanged_feed_answers_304_and_fires_nothing(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", "b", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "wire", "url": url})
    watcher = FeedWatcher([source], clock=clock)

    first = poll(watcher, clock)  # nothing seen yet, nothing in the index: both entries are news
    assert first is not None and first.sources == ("wire",) and first.new_entries == 2
    for _ in range(3):
        assert poll(watcher, clock) is None
        assert watcher.last["wire"].outcome == "not-modified"
    requests = web_server.requests_for("/feed.xml")
    assert len(requests) == 4
    assert requests[0].headers.get("if-none-match") is None
    assert all(r.headers.get("if-none-match") == '"v1"' for r in requests[1:])


def test_a_new_item_fires_one_event_and_the_same_items_never_fire_again(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", "b", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "wire", "url": url})
    recorded = []
    watcher = FeedWatcher([source], clock=clock, record=recorded.append)
    assert poll(watcher, clock).new_entries == 2

    feed(web_server, "/feed.xml", "c", "a", "b", etag='"v2"')
    change = poll(watcher, clock)
    assert change is not None and change.new_entries == 1
    assert watcher.last["wire"].new == (f"{web_server.base_url}/news/c.html",)
    assert poll(watcher, clock) is None  # 304 for v2

    # The server changes the body and its ETag, but lists no entry it did not list before.
    feed(web_server, "/feed.xml", "b", "c", etag='"v3"')
    assert poll(watcher, clock) is None
    assert watcher.last["wire"].outcome == "unchanged"
    # An entry that left the feed and comes back is not news either.
    feed(web_server, "/feed.xml", "a", "b", "c", etag='"v4"')
    assert poll(watcher, clock) is None
    assert [c.new_entries for c in recorded] == [2, 1]


def test_first_poll_skips_entries_the_index_already_holds(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", "b", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "wire", "url": url})
    indexed = {f"{web_server.base_url}/news/a.html"}
    watcher = FeedWatcher([source], clock=clock, already_indexed=lambda urls: indexed & set(urls))
    change = poll(watcher, clock)
    assert change.new_entries == 1 and watcher.last["wire"].new == (f"{web_server.base_url}/news/b.html",)


def test_interval_grows_while_unchanged_and_shrinks_when_items_arrive(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "wire", "url": url})
    watcher = FeedWatcher([source], clock=clock)
    poll(watcher, clock)
    waits = []
    for _ in range(6):
        poll(watcher, clock)
        waits.append(watcher.last["wire"].wait)
    assert waits == sorted(waits) and waits[0] > 10 and waits[-1] == 100  # stretched up to max_interval
    feed(web_server, "/feed.xml", "b", "a", etag='"v2"')
    poll(watcher, clock)
    assert watcher.last["wire"].wait == 50  # halved
    feed(web_server, "/feed.xml", "c", "b", "a", etag='"v3"')
    poll(watcher, clock)
    assert watcher.last["wire"].wait == 25
    for n in range(4):
        feed(web_server, "/feed.xml", f"d{n}", "c", etag=f'"w{n}"')
        poll(watcher, clock)
    assert watcher.last["wire"].wait == 10  # never below min_interval


def test_cache_control_max_age_is_honoured_up_to_max_interval(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", etag='"v1"', headers={"Cache-Control": "public, max-age=60"})
    url2 = feed(web_server, "/long.xml", "x", etag='"v1"', headers={"Cache-Control": "max-age=86400", "Age": "10"})
    watcher = FeedWatcher(sources(tmp_path, {"name": "wire", "url": url}, {"name": "long", "url": url2}), clock=clock)
    poll(watcher, clock)
    assert watcher.last["wire"].wait == 60  # not before the server says the feed can change
    assert watcher.last["long"].wait == 100  # but never later than max_interval
    assert cache_lifetime({"cache-control": "max-age=60", "age": "15"}) == 45
    assert cache_lifetime({"cache-control": "no-cache, max-age=60"}) is None


def test_politeness_per_host_rate_limit_across_sources(web_server, tmp_path, clock):
    urls = [feed(web_server, f"/feed{n}.xml", f"s{n}", etag='"v1"') for n in range(3)]
    watcher = FeedWatcher(
        sources(tmp_path, *({"name": f"wire{n}", "url": u} for n, u in enumerate(urls)), defaults={"rate_limit": 4}),
        clock=clock,
    )
    change = poll(watcher, clock)  # all three are due at once and polled concurrently
    assert sorted(change.sources) == ["wire0", "wire1", "wire2"]
    times = sorted(r.time for r in web_server.requests if r.route != "/robots.txt")
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.25 * 0.9, gaps  # one host, 4 requests/s, shared by its three sources


def test_politeness_robots_disallow_is_obeyed_and_backs_off(web_server, tmp_path, clock):
    web_server.robots("User-agent: *\nDisallow: /private/\n")
    url = feed(web_server, "/private/feed.xml", "a", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "hidden", "url": url})
    watcher = FeedWatcher([source], clock=clock)
    assert poll(watcher, clock) is None
    result = watcher.last["hidden"]
    assert result.outcome == "failed" and result.error == "robots-disallowed"
    assert web_server.hits("/private/feed.xml") == 0 and web_server.hits("/robots.txt") == 1
    assert result.wait == 10  # the failure backoff


def test_a_failing_feed_backs_off_and_recovers(web_server, tmp_path, clock):
    good = Route(body=rss("a", base=web_server.base_url), content_type="application/rss+xml", etag='"v1"')
    url = web_server.sequence("/feed.xml", [Route(status=500)] * 4 + [good])
    (source,) = sources(tmp_path, {"name": "flaky", "url": url})
    watcher = FeedWatcher([source], clock=clock)
    waits = []
    for _ in range(4):
        assert poll(watcher, clock) is None
        assert watcher.last["flaky"].outcome == "failed"
        waits.append(watcher.last["flaky"].wait)
    assert waits == [10, 20, 40, 80]  # failure_backoff doubling up to max_failure_backoff
    assert poll(watcher, clock).new_entries == 1
    assert watcher.last["flaky"].wait == 10  # back at the pace it had before the outage
    assert web_server.hits("/feed.xml") == 5  # no retries inside a poll: the next poll is the retry


def test_retry_after_is_honoured(web_server, tmp_path, clock):
    url = web_server.add("/feed.xml", status=503, headers={"Retry-After": "300"})
    (source,) = sources(tmp_path, {"name": "busy", "url": url})
    watcher = FeedWatcher([source], clock=clock)
    poll(watcher, clock)
    assert watcher.last["busy"].outcome == "failed" and watcher.last["busy"].wait >= 300


def test_a_change_that_cannot_be_recorded_is_announced_again(web_server, tmp_path, clock):
    url = feed(web_server, "/feed.xml", "a", etag='"v1"')
    (source,) = sources(tmp_path, {"name": "wire", "url": url})
    attempts = []

    def record(change):
        attempts.append(change)
        if len(attempts) == 1:
            raise ConnectionError("index unreachable")

    watcher = FeedWatcher([source], clock=clock, record=record)
    assert poll(watcher, clock) is None  # recording failed: not announced, not forgotten
    change = poll(watcher, clock)
    assert change is not None and change.new_entries == 1 and len(attempts) == 2


def test_interval_functions_stay_within_bounds():
    bounds = Bounds(min_interval=30, max_interval=900, failure_backoff=300, max_failure_backoff=43200)
    assert adapt(30, changed=True, bounds=bounds) == 30
    assert adapt(800, changed=False, bounds=bounds) == 900
    assert adapt(100, changed=False, bounds=bounds) == 150
    assert wait_after_failure(30, 1, None, bounds) == 300
    assert wait_after_failure(30, 20, None, bounds) == 43200
    assert wait_after_failure(30, 1, 10**9, bounds) == 86400  # a Retry-After is capped at a day
    with pytest.raises(ValueError, match="min_interval"):
        Bounds(min_interval=60, max_interval=30, failure_backoff=1, max_failure_backoff=2)


@pytest.mark.parametrize(
    ("watch", "expected"),
    [
        ({"min_interval": "10m", "max_interval": "1m"}, "watch.max_interval: must not be shorter than min_interval"),
        ({"min_interval": "0s"}, "watch.min_interval: must be between 1s and 1d"),
        ({"min_interval": "soon"}, "watch.min_interval: "),
        ({"every": "30s"}, "watch.every: unknown field"),
    ],
)
def test_watch_config_errors_name_the_field(tmp_path, watch, expected):
    from newswire.config import ConfigError, load_config

    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"name": "w", "type": "feed", "url": "https://example.org/rss",
                                                 "watch": watch}]}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert any(p.startswith(f"sources[0] (w): {expected}") for p in err.value.problems), err.value.problems


def test_watch_defaults_apply_to_feeds_not_directories(tmp_path):
    (tmp_path / "seeds").mkdir()
    config = parse_config(yaml.safe_load(textwrap.dedent("""\
        defaults: {watch: {min_interval: 45s}}
        sources:
          - {name: folder, type: directory, path: seeds}
          - {name: wire, type: feed, url: "https://example.org/rss"}
          - {name: quiet, type: feed, url: "https://example.org/other", watch: null}
    """)), base_dir=tmp_path)
    folder, wire, quiet = config.sources
    assert folder.watch is None and quiet.watch is None
    assert wire.watch.min_interval.total_seconds() == 45 and wire.watch.max_interval.total_seconds() == 900
    with pytest.raises(Exception, match="watch: only feeds and sitemaps"):
        parse_config({"sources": [{"name": "f", "type": "directory", "path": "seeds", "watch": {}}]}, base_dir=tmp_path)
