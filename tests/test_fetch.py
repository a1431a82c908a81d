"""The HTTP client against a real server on 127.0.0.1: politeness, limits, retries, SSRF guard."""

from __future__ import annotations

import email.utils
import socket
import threading
import time

import pytest
from support.webserver import Route, WebServer, web_server  # noqa: F401

from newswire.fetch import FetchError, Fetcher, FetchPolicy, parse_retry_after, screen_url

# Tests talk to 127.0.0.1, so they must allow it explicitly; the default policy refuses it.
LOCAL = dict(allowed_networks=("127.0.0.1/32",), backoff_base=0.05)


def fetcher(**overrides) -> Fetcher:
    return Fetcher(FetchPolicy(**{**LOCAL, "rate_limit": 100, **overrides}))


def reason_of(fetch: Fetcher, url: str, **kwargs) -> str:
    with pytest.raises(FetchError) as caught:
        fetch.get(url, **kwargs)
    return caught.value.reason


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket connects to during the test (the real connect still happens)."""
    seen: list[str] = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        seen.append(address[0])
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return seen


# ----------------------------------------------------------------- politeness


def test_fifty_items_on_one_host_take_the_time_the_rate_limit_implies(web_server):
    for i in range(50):
        web_server.add(f"/a/{i}.html", body=f"<p>{i}</p>")
    urls = [web_server.url(f"/a/{i}.html") for i in range(50)]
    rate = 25.0
    with fetcher(rate_limit=rate, max_concurrency=4) as fetch:
        started = time.monotonic()
        results = fetch.fetch_many(urls)
        elapsed = time.monotonic() - started
    assert all(r.status == 200 for r in results)
    assert [r.body for r in results] == [f"<p>{i}</p>".encode() for i in range(50)]  # input order kept
    # 51 requests (robots.txt + 50) spaced at least 1/rate apart: >= 50/25 = 2.0 s
    assert elapsed >= 50 / rate * 0.97, elapsed
    times = sorted(r.time for r in web_server.requests)
    assert len(times) == 51 and web_server.hits("/robots.txt") == 1
    assert times[-1] - times[0] >= 50 / rate * 0.95


def test_concurrency_per_host_is_capped(web_server):
    in_flight = []
    peak = [0]
    lock = threading.Lock()

    def slow(request):
        with lock:
            in_flight.append(1)
            peak[0] = max(peak[0], len(in_flight))
        time.sleep(0.2)
        with lock:
            in_flight.pop()
        return Route(body="ok")

    web_server.add("/slow", slow)
    with fetcher(rate_limit=1000, max_concurrency=2, max_workers=8) as fetch:
        started = time.monotonic()
        results = fetch.fetch_many([web_server.url("/slow") + f"?i={i}" for i in range(10)])
        elapsed = time.monotonic() - started
    assert all(isinstance(r, object) and r.status == 200 for r in results)
    assert peak[0] == 2
    assert elapsed >= 10 * 0.2 / 2 * 0.95


def test_robots_disallow_is_obeyed_and_cached_per_fetcher(web_server):
    web_server.robots("User-agent: *\nDisallow: /private/\n\nUser-agent: newswire\nDisallow: /private/\nDisallow: /nw-only/\n")
    for path in ("/private/a.html", "/nw-only/b.html", "/public/c.html"):
        web_server.add(path, body="x")
    with fetcher() as fetch:
        assert reason_of(fetch, web_server.url("/private/a.html")) == "robots-disallowed"
        assert reason_of(fetch, web_server.url("/nw-only/b.html")) == "robots-disallowed"  # our own group
        assert fetch.get(web_server.url("/public/c.html")).status == 200
    with fetcher(user_agent="otherbot/1.0") as fetch:  # a new fetcher reads robots.txt again
        assert fetch.get(web_server.url("/nw-only/b.html")).status == 200
    assert web_server.hits("/private/a.html") == 0
    assert web_server.hits("/nw-only/b.html") == 1
    assert web_server.hits("/robots.txt") == 2


def test_robots_crawl_delay_slows_the_host(web_server):
    web_server.robots("User-agent: *\nCrawl-delay: 0.25\n")
    web_server.add("/p", body="x")
    with fetcher(rate_limit=100) as fetch:
        started = time.monotonic()
        fetch.fetch_many([web_server.url(f"/p?i={i}") for i in range(4)])
        assert time.monotonic() - started >= 3 * 0.25 * 0.95


def test_robots_5xx_means_disallow_and_4xx_means_allow(web_server):
    web_server.add("/robots.txt", status=503, body="down")
    web_server.add("/a", body="x")
    with fetcher(retries=0) as fetch:
        assert reason_of(fetch, web_server.url("/a")) == "robots-unavailable"
    web_server.add("/robots.txt", status=404)
    with fetcher(retries=0) as fetch:
        assert fetch.get(web_server.url("/a")).status == 200
    assert web_server.hits("/a") == 1


# ----------------------------------------------------------------- incremental


def test_conditional_get_sends_validators_and_returns_304(web_server):
    modified = email.utils.formatdate(time.time() - 3600, usegmt=True)
    web_server.add("/feed", body="<rss/>", content_type="application/rss+xml", etag='"v1"', last_modified=modified)
    with fetcher() as fetch:
        first = fetch.get(web_server.url("/feed"))
        assert (first.status, first.headers["etag"], first.body) == (200, '"v1"', b"<rss/>")
        again = fetch.get(web_server.url("/feed"), etag='"v1"', last_modified=modified)
        assert (again.status, again.body) == (304, b"")
        by_date = fetch.get(web_server.url("/feed"), last_modified=modified)
        assert by_date.status == 304
    conditional = web_server.requests_for("/feed")[1]
    assert conditional.headers["if-none-match"] == '"v1"'
    assert conditional.headers["if-modified-since"] == modified


# ----------------------------------------------------------------- failures: each documented, run goes on


def test_slow_server_times_out_and_the_next_request_still_works(web_server):
    web_server.add("/slow", body="late", delay=3)
    web_server.add("/drip", size=2_000_000, chunk_delay=0.1, content_type="text/plain")
    web_server.add("/fine", body="ok")
    with fetcher(read_timeout=0.3, total_timeout=0.6, retries=1) as fetch:
        started = time.monotonic()
        assert reason_of(fetch, web_server.url("/slow")) == "timeout"
        assert time.monotonic() - started < 2.0
        assert reason_of(fetch, web_server.url("/drip")) == "timeout"  # each chunk in time, the whole not
        assert fetch.get(web_server.url("/fine")).body == b"ok"
    assert web_server.hits("/slow") == 2  # timeouts are retried


def test_500s_then_success_is_retried_with_backoff(web_server):
    web_server.sequence("/flaky", [Route(status=500), Route(status=502), Route(body="finally")])
    web_server.add("/broken", status=500, body="no")
    web_server.add("/gone", status=404)
    with fetcher(retries=2) as fetch:
        page = fetch.get(web_server.url("/flaky"))
        assert (page.status, page.body) == (200, b"finally")
        with pytest.raises(FetchError) as caught:
            fetch.get(web_server.url("/broken"))
        assert (caught.value.reason, caught.value.status) == ("http-500", 500)
        assert reason_of(fetch, web_server.url("/gone")) == "http-404"
    times = [r.time for r in web_server.requests_for("/flaky")]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.05 * 0.9 and times[2] - times[1] >= 0.1 * 0.9  # 0.05, 0.1: doubling
    assert web_server.hits("/broken") == 3 and web_server.hits("/gone") == 1  # 4xx are not retried


def test_429_retry_after_is_honoured_and_a_too_long_one_fails_at_once(web_server):
    web_server.sequence("/limited", [Route(status=429, headers={"Retry-After": "1"}), Route(body="ok")])
    web_server.add("/closed", status=429, headers={"Retry-After": "3600"})
    maint_calls = []

    def maintenance(request):  # a Retry-After HTTP date two seconds after the request arrives
        maint_calls.append(request)
        if len(maint_calls) > 1:
            return Route(body="back")
        return Route(status=503, headers={"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)})

    web_server.add("/maint", maintenance)
    with fetcher(retries=2, max_retry_wait=5) as fetch:
        assert fetch.get(web_server.url("/limited")).body == b"ok"
        assert fetch.get(web_server.url("/maint")).body == b"back"
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch.get(web_server.url("/closed"))
        assert time.monotonic() - started < 0.5
        assert caught.value.reason == "http-429" and caught.value.retry_after == 3600
    first, second = web_server.requests_for("/limited")
    assert second.time - first.time >= 0.95
    assert web_server.hits("/closed") == 1
    maint = web_server.requests_for("/maint")
    assert maint[1].time - maint[0].time >= 1.0  # an HTTP-date Retry-After (whole seconds) was waited for


def test_a_long_retry_after_pauses_the_whole_host(web_server):
    web_server.add("/a", status=429, headers={"Retry-After": "3600"})
    web_server.add("/b", body="b")
    with fetcher(max_concurrency=1, max_retry_wait=5) as fetch:
        results = fetch.fetch_many([web_server.url("/a"), web_server.url("/b"), web_server.url("/b?again")])
    assert [r.reason for r in results] == ["http-429"] * 3
    assert results[1].retry_after > 3500 and "not sent" in results[1].detail
    assert web_server.hits("/a") == 1 and web_server.hits("/b") == 0


def test_ten_megabyte_body_is_cut_off(web_server):
    web_server.add("/huge", size=10_000_000, content_type="text/html")
    web_server.add("/huge-unannounced", size=10_000_000, content_type="text/html", send_length=False)
    limit = 1_000_000
    with fetcher(max_bytes=limit) as fetch:
        with pytest.raises(FetchError) as caught:
            fetch.get(web_server.url("/huge"))
        assert caught.value.reason == "too-large" and "Content-Length" in caught.value.detail
        started = time.monotonic()
        assert reason_of(fetch, web_server.url("/huge-unannounced")) == "too-large"  # stopped while streaming
        assert time.monotonic() - started < 2
    with fetcher(max_bytes=limit, truncate_oversize=True) as fetch:
        page = fetch.get(web_server.url("/huge-unannounced"))
        assert page.truncated and len(page.body) == limit


def test_redirects_loops_and_limits(web_server):
    web_server.add("/final", body="here")
    web_server.redirect("/moved", "/final", status=301)
    web_server.redirect("/loop-a", "/loop-b")
    web_server.redirect("/loop-b", "/loop-a")
    for i in range(8):
        web_server.redirect(f"/hop{i}", f"/hop{i + 1}")
    web_server.add("/hop8", body="end")
    with fetcher(max_redirects=5) as fetch:
        page = fetch.get(web_server.url("/moved"))
        assert (page.url, page.final_url, page.body) == (web_server.url("/moved"), web_server.url("/final"), b"here")
        assert reason_of(fetch, web_server.url("/loop-a")) == "redirect-loop"
        assert reason_of(fetch, web_server.url("/hop0")) == "too-many-redirects"
    assert web_server.hits("/hop6") == 0  # stopped after 5 redirects


def test_content_type_filter(web_server):
    web_server.add("/image", body=b"\x89PNG...", content_type="image/png")
    web_server.add("/page", body="<p>x</p>", content_type="text/html; charset=utf-8")
    with fetcher() as fetch:
        assert reason_of(fetch, web_server.url("/image"), content_types=("text/html",)) == "bad-content-type"
        assert fetch.get(web_server.url("/page"), content_types=("text/html",)).status == 200


def test_closed_port_is_a_connect_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fetcher(retries=1, respect_robots=False) as fetch:
        assert reason_of(fetch, f"http://127.0.0.1:{port}/x") == "connect-error"


# ----------------------------------------------------------------- SSRF guard


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/x", "private-address"),
        ("http://10.0.0.1/x", "private-address"),
        ("http://169.254.169.254/latest/meta-data/", "private-address"),
        ("http://[::1]/x", "private-address"),
        ("http://[::ffff:10.0.0.1]/x", "private-address"),
        ("http://192.168.1.1/", "private-address"),
        ("http://100.64.0.1/", "private-address"),
        ("http://0.0.0.0/", "private-address"),
        ("http://localhost:8080/x", "private-address"),
        ("http://metadata.internal/x", "private-address"),
        ("file:///etc/passwd", "bad-scheme"),
        ("ftp://example.org/x", "bad-scheme"),
        ("gopher://127.0.0.1:70/", "bad-scheme"),
        ("http:///nohost", "bad-url"),
        ("https://news.example.org/a", None),
        ("http://93.184.215.14/", None),
    ],
)
def test_screen_url(url, reason):
    assert screen_url(url) == reason


def test_default_policy_refuses_private_targets_before_connecting(web_server, connections):
    web_server.add("/a", body="x")
    with Fetcher(FetchPolicy()) as fetch:  # the default: no private network
        for url in (
            web_server.url("/a"),
            "http://10.0.0.1/x",
            "http://169.254.169.254/latest/meta-data/",
            f"http://localhost:{web_server.port}/a",
        ):
            assert reason_of(fetch, url) == "private-address"
        assert reason_of(fetch, "file:///etc/passwd") == "bad-scheme"
    assert connections == [] and web_server.requests == []


def test_names_resolving_to_private_addresses_are_refused_at_connect_time(web_server, connections):
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pytest.skip("this machine's own name does not resolve")
    if any(FetchPolicy().address_allowed(a) for a in addresses):
        pytest.skip(f"{name} resolves to a public address")
    with Fetcher(FetchPolicy(respect_robots=False)) as fetch:
        with pytest.raises(FetchError) as caught:
            fetch.get(f"http://{name}:{web_server.port}/x")
    assert caught.value.reason == "private-address" and "resolves to" in caught.value.detail
    assert connections == []


def test_each_redirect_hop_is_checked(web_server, connections):
    web_server.redirect("/to-private", "http://10.0.0.1/admin")
    web_server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    web_server.redirect("/to-file", "file:///etc/passwd")
    # Only the test server's own address is allowed: the hops' targets are not.
    with Fetcher(FetchPolicy(allowed_networks=("127.0.0.1/32",), respect_robots=False, rate_limit=100)) as fetch:
        assert reason_of(fetch, web_server.url("/to-private")) == "private-address"
        assert reason_of(fetch, web_server.url("/to-metadata")) == "private-address"
        assert reason_of(fetch, web_server.url("/to-file")) == "bad-scheme"
    assert set(connections) == {"127.0.0.1"}


def test_policy_checks_its_arguments():
    with pytest.raises(ValueError, match="rate_limit=0"):
        FetchPolicy(rate_limit=0)
    with pytest.raises(ValueError):
        FetchPolicy(allowed_networks=("not a network",))


def test_parse_retry_after():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60


def test_server_helper_is_a_context_manager():
    with WebServer() as server:
        server.add("/x", body="y")
        with fetcher() as fetch:
            assert fetch.get(server.url("/x")).body == b"y"
