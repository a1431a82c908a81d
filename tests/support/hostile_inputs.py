"""Hostile inputs, each a few kilobytes, that once exhausted memory, stalled a worker or stopped a source.

Shared by ``tests/test_hostile.py`` and ``bench/hostile.py``. Nothing here names a site: each
input is built from its shape alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
#: 2 GiB of zeros, gzipped twice: 3.5 kB on the wire, served with ``Content-Encoding: gzip, gzip``.
STACKED_GZIP = FIXTURES / "zeros-2gib.gz.gz"
STACKED_GZIP_INFLATED = 2 << 30

#: Hosts no HTTP client can send: an octal IPv4, a snowman, a bad punycode label, an empty label.
BAD_URLS = ("http://0177.0.0.1/a", "http://\u2603.example/a", "http://xn--a.example/a", "http://a..b/a")
#: IPv6 forms that carry the cloud metadata address or loopback.
EMBEDDED_IPV4 = ("64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "::127.0.0.1", "::ffff:169.254.169.254",
                 "2001:0:4136:e378:8000:63bf:5601:5601")  # Teredo: client 169.254.169.254 (obfuscated)

ADDRESS_LIMIT = 1536 << 20  # bytes of address space a case may use
WALL_LIMIT = 300.0  # seconds a case may take (a slow shared machine: the cases take a few seconds)


def rss(items: list[tuple[str, str]], *, head: str = "", extra: str = "") -> bytes:
    """An RSS 2.0 feed of (title, link) items, with ``head`` before the root and ``extra`` raw XML after the items."""
    body = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{head}<rss version="2.0"><channel><title>t</title>'
            f"{body}{extra}</channel></rss>").encode()


def entity_feed(total_bytes: int, links: list[str], bomb_link: str = "https://news.example.org/bomb") -> bytes:
    """An ill-formed feed declaring one large entity and referencing it everywhere, about ``total_bytes`` long.

    expat stops at the ill-formed part; feedparser's loose parser then expands every ``&big;``:
    half the bytes as the entity, half as 5-byte references, so 130 kB asked for about 850
    million characters before the fix.
    """
    value = "x" * (total_bytes // 2)
    head = f'<!DOCTYPE rss [\n<!ENTITY big "{value}">\n]>\n'
    refs = "&big;" * ((total_bytes // 2) // 5)
    extra = f"<item><title>bomb</title><link>{bomb_link}</link><description>{refs}</description>" \
            "<unclosed></item>"
    return rss([(f"good {i}", link) for i, link in enumerate(links)], head=head, extra=extra)


def nested_json_feed(depth: int = 100_000) -> bytes:
    """A JSON Feed-looking body nested ``depth`` levels deep (RecursionError in the decoder)."""
    return b'{"version": "https://jsonfeed.org/version/1.1", "a":' + b"[" * depth


def jsonld_lists_page(scripts: int = 4) -> bytes:
    """An article page whose head carries ``scripts`` JSON-LD blocks of ~480 kB, each a list of lists of
    lists (about 160,000 entries to walk): quadratic for a walk that pops from the front of a list."""
    inner = "[" + ",".join(["[]"] * 100) + "]"
    block = "[" + ",".join(["[" + ",".join([inner] * 100) + "]"] * 16) + "]"
    head = "".join(f'<script type="application/ld+json">{block}</script>' for _ in range(scripts))
    body = "<p>" + "A sentence of the report that says something. " * 40 + "</p>"
    return f"<html><head><title>Report</title>{head}</head><body><article>{body}</article></body></html>".encode()


def layout_trap_page(containers: int = 500, cards: int = 5_000) -> bytes:
    """A page of ``containers`` look-alike body chunks (one class, two paragraphs each, an ``<h1>`` and
    filler between them) and a paragraph of ``cards`` nested hover cards: work for a chunk search
    that compares every pair, or a card search that re-walks each card's subtree."""
    filler = "<div>" + "<span>x</span>" * 50 + "</div>"
    chunk = ('<div class="grid"><div class="body chunk"><p>Paragraph one of a chunk with some words in it.</p>'
             '<p>Paragraph two of a chunk with some more words in it, long enough.</p></div>' + filler + "<h1>H</h1></div>")
    card = '<span><img src="/i.jpg"><a href="/a">Name</a><a href="/b">Headline</a>'
    paragraph = "<p>A name " + card * cards + "</span>" * cards + " said something.</p>"
    body = chunk * containers + paragraph
    return f"<html><head><title>Report</title></head><body><article>{body}</article></body></html>".encode()


def regex_paragraph_page(n: int) -> bytes:
    """An HTML page whose paragraph is ``"a" + "!" * n + "a"``: quadratic for ``[\\W_]+$``-style patterns."""
    para = "a" + "!" * n + "a"
    return (f"<html><head><title>Report</title></head><body><article><h1>Report</h1><p>{para}</p>"
            f"</article></body></html>").encode()


def limit_resources(address_bytes: int = ADDRESS_LIMIT) -> None:
    """``preexec_fn`` of a case: cap its address space (so a blow-up is a MemoryError, not a dead machine)."""
    resource.setrlimit(resource.RLIMIT_AS, (address_bytes, address_bytes))


def run_bounded(args: list[str], *, env: dict[str, str] | None = None, timeout: float = WALL_LIMIT,
                address_bytes: int = ADDRESS_LIMIT) -> tuple[dict, subprocess.CompletedProcess]:
    """Run ``python args...`` under the limits; returns the JSON its last stdout line printed, and the process.

    Raises:
        AssertionError: the case crashed, passed the wall clock, or printed no result.
    """
    try:
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env,
                              preexec_fn=lambda: limit_resources(address_bytes))
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{args}: still running after {timeout}s\n{exc.stderr}") from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, f"{args}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(lines[-1]), proc
