"""News sitemaps to :class:`~newswire.models.Entry` values: ``<urlset>`` and ``<sitemapindex>``.

Parsed with lxml configured for untrusted input: no DTD loading, no entity expansion, no
network access, no huge trees. Gzipped bodies (``.xml.gz``) are inflated up to a cap. Dates:
``news:publication_date`` first, then ``lastmod`` (W3C datetime, date-only allowed, as UTC).
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin

from lxml import etree

from newswire.models import Entry, ItemOutcome
from newswire.sources.errors import SourceError

MAX_INFLATED_BYTES = 50_000_000  # the sitemap protocol's own limit for one file


class SitemapError(SourceError):
    """Not a sitemap. ``reason``: ``not-a-sitemap`` or ``unparseable-sitemap``."""


@dataclass(kw_only=True, slots=True)
class ParsedSitemap:
    """A urlset's entries, or a sitemap index's children (url, lastmod)."""

    kind: str  # "urlset" | "sitemapindex"
    entries: list[Entry] = field(default_factory=list)
    children: list[tuple[str, datetime | None]] = field(default_factory=list)
    skipped: list[ItemOutcome] = field(default_factory=list)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, remove_comments=True
    )


def parse_w3c_datetime(text: object) -> datetime | None:
    """``2024-05-01``, ``2024-05-01T10:00Z``, ``2024-05-01T10:00:00+02:00`` -> aware datetime; None if unreadable.

    Anything but a string (a JSON number, null) is unreadable too.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _inflate(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        data = gzip.GzipFile(fileobj=io.BytesIO(body)).read(MAX_INFLATED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise SitemapError("unparseable-sitemap", f"bad gzip: {exc}") from None
    if len(data) > MAX_INFLATED_BYTES:
        raise SitemapError("unparseable-sitemap", f"inflates past {MAX_INFLATED_BYTES} bytes")
    return data


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: etree._Element, *path: str) -> str | None:
    """Text of the first descendant along local names ``path`` (namespace-agnostic)."""
    current = element
    for name in path:
        current = next((c for c in current if _local(c) == name), None)
        if current is None:
            return None
    text = current.text
    return text.strip() if text and text.strip() else None


def parse_sitemap(body: bytes, *, url: str, source: str = "", language: str | None = None) -> ParsedSitemap:
    """Parse a fetched sitemap body (plain or gzipped).

    Raises:
        SitemapError: not XML, or the root is neither ``urlset`` nor ``sitemapindex``.
    """
    data = _inflate(body)
    try:
        root = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise SitemapError("unparseable-sitemap", str(exc)) from None
    if root is None:
        raise SitemapError("unparseable-sitemap", "empty document")
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError("not-a-sitemap", f"root element <{kind}>")
    parsed = ParsedSitemap(kind=kind)
    for node in root:
        name = _local(node)
        loc = _child_text(node, "loc")
        if name not in ("url", "sitemap"):
            continue
        if not loc:
            parsed.skipped.append(ItemOutcome(url="", reason="no-link", detail=f"<{name}> without <loc>"))
            continue
        loc = urljoin(url, loc)
        lastmod = parse_w3c_datetime(_child_text(node, "lastmod"))
        if kind == "sitemapindex":
            parsed.children.append((loc, lastmod))
            continue
        published = parse_w3c_datetime(_child_text(node, "news", "publication_date"))
        parsed.entries.append(
            Entry(
                url=loc,
                source=source,
                title=_child_text(node, "news", "title"),
                published=published or lastmod,
                language=_child_text(node, "news", "publication", "language") or language,
                site_name=_child_text(node, "news", "publication", "name"),
            )
        )
    return parsed
