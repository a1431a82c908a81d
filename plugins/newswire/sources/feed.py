"""Feed bytes to :class:`~newswire.models.Entry` values: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed here.

feedparser is always handed a stream over the bytes that the project's own client fetched, never a
URL, a path or even the raw bytes: its own fetching has no timeout, and a str *or bytes* argument
that looks like a path is opened as a local file. Entity declarations are removed before
feedparser sees the bytes: when expat gives up on a feed, feedparser's loose parser expands
the declared entities without limit (a 130 kB feed became a 500-million-character summary).
Ill-formed
("bozo") feeds are not thrown away: whatever entries feedparser recovered are used. A
:class:`FeedError` is raised only when nothing usable came out.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from time import struct_time
from typing import Any
from urllib.parse import urljoin

import feedparser

from newswire.models import Entry, ItemOutcome
from newswire.sources.errors import SourceError
from newswire.sources.sitemap import parse_w3c_datetime

SUMMARY_MAX_CHARS = 2000
JSON_FEED_TYPES = ("application/feed+json", "application/json")
MAX_ENTITY_PASSES = 20  # removal passes over the prolog; a prolog still declaring entities after them is refused

# What feedparser itself reads as the prolog and as an entity declaration (feedparser.sanitizer):
# everything before the first element, and ``<!ENTITY ...>`` at a line start within it.
_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_DECLARATION = re.compile(rb"^\s*<!ENTITY[^>]*>", re.MULTILINE)
# The date at the start of an ISO 8601 / W3C value, whose fields feedparser lets overflow
# (2024-13-45 became 2025-01-01); each field has a fixed width.
_ISO_DATE = re.compile(r"\s*(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?)?")


class FeedError(SourceError):
    """Nothing usable in the body. ``reason``: ``not-a-feed`` or ``unparseable-feed``."""


@dataclass(kw_only=True, slots=True)
class ParsedFeed:
    """What a feed announced. ``problem`` describes what feedparser recovered from, if anything."""

    version: str  # feedparser's name ("rss20", "atom10", ...) or "json1"/"json1.1"
    title: str | None
    entries: list[Entry] = field(default_factory=list)
    skipped: list[ItemOutcome] = field(default_factory=list)
    problem: str | None = None


def _datetime(value: struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def _stated_date_valid(raw: Any) -> bool:
    """False when an ISO-style date string names a day or time that does not exist (``2024-13-45``)."""
    match = _ISO_DATE.match(raw) if isinstance(raw, str) else None
    if match is None:
        return True  # other forms: feedparser's own parsers already refuse impossible fields
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        _dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _item_date(item: Any) -> datetime | None:
    """The item's published (else updated, else created) date; an impossible date is no date."""
    for key in ("published", "updated", "created"):
        parsed = item.get(f"{key}_parsed")
        if parsed:
            return _datetime(parsed) if _stated_date_valid(item.get(key)) else None
    return None


def _text(value: Any, limit: int = 300) -> str | None:
    """A string for reports: feeds put objects, numbers and lists where text belongs."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:limit]
    return text[:limit] or None


def without_entity_declarations(body: bytes) -> bytes:
    """The feed with every entity declaration in its prolog removed (references then stay unexpanded).

    Raises:
        FeedError: ``unsafe-feed`` when declarations cannot be removed safely: in a UTF-16/32 body
            (feedparser would convert it before looking), or still there after ``MAX_ENTITY_PASSES``.
    """
    first = _FIRST_ELEMENT.search(body)
    end = first.start() if first else len(body)
    head = body[:end]
    if b"\x00" in body[:4] or body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        if b"<!ENTITY" in body[:1_000_000].replace(b"\x00", b"").upper():
            raise FeedError("unsafe-feed", "entity declarations in a UTF-16/32 feed")
        return body
    if b"<!ENTITY" not in head:
        return body
    for _ in range(MAX_ENTITY_PASSES):
        head, removed = _ENTITY_DECLARATION.subn(b"", head)
        if not removed:
            return head + body[end:]
    raise FeedError("unsafe-feed", f"entity declarations left after {MAX_ENTITY_PASSES} removal passes")


def _summary(text: Any) -> str | None:
    return text[:SUMMARY_MAX_CHARS] if isinstance(text, str) and text.strip() else None


def _looks_like_json(body: bytes, headers: dict[str, str]) -> bool:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media in JSON_FEED_TYPES or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_feed(
    body: bytes, *, url: str, headers: dict[str, str] | None = None, source: str = "", language: str | None = None
) -> ParsedFeed:
    """Parse a fetched feed body.

    Args:
        body: the raw response bytes.
        url: the URL it was fetched from (relative links resolve against it).
        headers: the response headers (lower-cased names); feedparser uses the charset in Content-Type.
        source, language: copied into every Entry.

    Raises:
        FeedError: the body holds no feed and no recoverable entries.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if _looks_like_json(body, headers):
        return _parse_json_feed(body, url=url, source=source, language=language)
    # No Content-Type at all (a local file, a bare server) is read like application/xml: the XML
    # declaration then decides the charset, instead of feedparser flagging the feed as bozo.
    response_headers = {"content-type": "application/xml", **headers, "content-location": url}
    # A stream, never the bytes themselves: feedparser opens a *bytes* argument that looks like a
    # path as a local file (a body of b"/etc/passwd" would be read from disk).
    result = feedparser.parse(io.BytesIO(without_entity_declarations(body)), response_headers=response_headers)
    problem = None
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed"
    version = result.get("version") or ""
    if not result.entries:
        if problem and not (version and _harmless(result.get("bozo_exception"))):
            raise FeedError("unparseable-feed", problem)
        if not version:
            raise FeedError("not-a-feed", "no RSS, Atom or JSON Feed document found")
    parsed = ParsedFeed(version=version, title=result.feed.get("title"), problem=problem)
    for item in result.entries:
        link = _as_written((item.get("link") or "").strip(), body)
        guid = item.get("id") or None
        if not link and guid and str(guid).startswith(("http://", "https://")):
            link = str(guid).strip()
        if not link:
            parsed.skipped.append(ItemOutcome(url=str(guid or ""), reason="no-link", detail=_text(item.get("title"))))
            continue
        parsed.entries.append(
            Entry(
                url=urljoin(url, link),
                source=source,
                title=item.get("title") or None,
                published=_item_date(item),
                summary=_summary(item.get("summary")),
                guid=str(guid) if guid else None,
                language=language,
            )
        )
    return parsed


def _as_written(link: str, body: bytes) -> str:
    """A non-http link as the feed spells it, so a report names the real link.

    feedparser passes every link through its own join, which drops the slashes after
    ``scheme://`` (``file:///etc/passwd`` comes out as ``file://etc/passwd``). http(s) links
    are left alone: they never have a third slash there.
    """
    scheme, sep, rest = link.partition("://")
    if not sep or scheme.lower() in ("http", "https") or not rest:
        return link
    found = re.search(re.escape(scheme).encode() + rb"://+" + re.escape(rest.encode()), body, flags=re.IGNORECASE)
    return found.group().decode("utf-8", "replace") if found else link


def _harmless(exc: BaseException | None) -> bool:
    """Encoding notes (the feed parsed fine under another charset) do not make an empty feed unusable."""
    return isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType))


def _parse_json_feed(body: bytes, *, url: str, source: str, language: str | None) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError("unparseable-feed", f"JSON Feed: {exc}") from None
    except RecursionError:  # '{"a":' + '[' * 100_000: the decoder's own depth limit
        raise FeedError("unparseable-feed", "JSON Feed nested too deeply") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise FeedError("not-a-feed", "JSON without a jsonfeed.org version")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("unparseable-feed", "JSON Feed without an items list")
    title = data.get("title")
    parsed = ParsedFeed(version="json" + version.rsplit("/", 1)[-1], title=title if isinstance(title, str) else None)
    base = data.get("home_page_url") if isinstance(data.get("home_page_url"), str) else url
    for item in items:
        if not isinstance(item, dict):
            parsed.skipped.append(ItemOutcome(url="", reason="bad-item", detail="not an object"))
            continue
        link = item.get("url") or item.get("external_url")
        guid = item.get("id")
        if not isinstance(link, str) or not link.strip():
            parsed.skipped.append(ItemOutcome(url=_text(guid) or "", reason="no-link", detail=_text(item.get("title"))))
            continue
        parsed.entries.append(
            Entry(
                url=urljoin(base, link.strip()),
                source=source,
                title=item.get("title") if isinstance(item.get("title"), str) else None,
                published=parse_w3c_datetime(item.get("date_published")) or parse_w3c_datetime(item.get("date_modified")),
                summary=_summary(item.get("summary") or item.get("content_text")),
                guid=_text(guid, 1000),
                language=item.get("language") if isinstance(item.get("language"), str) else language,
            )
        )
    return parsed
