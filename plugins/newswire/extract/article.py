"""Page or text to a cleaned ``Article``: the extract stage.

Bytes are decoded once, by :mod:`newswire.extract.decode` (BOM, the declared charset, stray
bytes repaired). HTML goes through one trafilatura pass with reader comments and trafilatura's
own deduplication off, in balanced mode (see ``ExtractOptions``); :mod:`newswire.extract.layout`
drops hover cards from paragraphs before it runs and restores the chunks of a split body after.
Metadata comes from :mod:`newswire.extract.meta`; a line filter
(:func:`newswire.extract.textclean.clean_extracted_lines`) drops the title repeated as first line,
share/subscribe/related prompts and legal notices, after :mod:`newswire.extract.links` has dropped
the lines that are a link's text (menus, related stories). Plain text and Markdown go through
:mod:`newswire.extract.textclean`. Both paths end in the same normalisation
(:mod:`newswire.extract.normalize`: NFC, ftfy, one blank line between paragraphs) and the same
quality gate (:mod:`newswire.extract.quality`).

Every input gets an ``Article`` back, never an exception for bad content: empty, binary,
oversized or unparsable inputs come back with ``reason`` set. Sizes are capped before any
parsing, and lxml caps tree depth (255), so the time per input is bounded.
"""

from __future__ import annotations

import gzip
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newswire.extract.decode import decode
from newswire.extract.normalize import fix_unicode, join_paragraphs, split_lines
from newswire.extract.quality import Signals, assess
from newswire.extract.textclean import byline_authors, clean_extracted_lines, clean_text
from newswire.ids import article_id, content_id
from newswire.models import Article, Entry, Page
from newswire.urls import canonicalize, prefer_canonical


@dataclass(kw_only=True, slots=True, frozen=True)
class ExtractOptions:
    """Limits and extraction settings; the defaults are the tuned ones (see bench/eval_extraction.py)."""

    max_input_bytes: int = 64_000_000  # read at most this much of a file (more is "too-large")
    max_html_bytes: int = 6_000_000  # HTML left after dropping scripts and styles
    max_text_chars: int = 2_000_000  # plain text / Markdown
    # One trafilatura pass in balanced mode, with its fallback extractors compared (fast=False).
    # Measured on the DEV sets (bench/eval_extraction.py, bench/bench_extract_speed.py):
    # precision mode costs ~15% more CPU (its extra pruning), loses whole articles on some pages
    # (empty or too short to pass the gate) and gains only 0.004 F1 on the news benchmark;
    # fast=True saves CPU but loses 0.01-0.02 F1.
    favor_precision: bool = False
    fast: bool = False
    # Restore the later chunks of an article body split into chunks, and drop hover cards from
    # paragraphs (newswire.extract.layout); off only to measure what it changes.
    repair_layout: bool = True
    # py3langid's cost grows with the sample; on 300 DEV articles 300, 600 and 1200 characters gave
    # the same language for every one (1200 cost 2.4 ms, 600 1.4 ms).
    language_sample_chars: int = 600


DEFAULT_OPTIONS = ExtractOptions()
LOGGER = logging.getLogger(__name__)

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\xd0\xcf\x11\xe0",
                 b"RIFF", b"\x00\x00\x01\x00", b"ID3", b"OggS", b"\x7fELF", b"MZ", b"\x28\xb5\x2f\xfd", b"BZh")
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article)\b", re.I)


# --- public API -------------------------------------------------------------------------


def extract_html(
    html: bytes | str,
    *,
    url: str | None = None,
    source: str = "",
    content_type: str | None = None,
    feed_date: datetime | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
) -> Article:
    """An HTML page as an ``Article`` (body, title, authors, date, language, site, canonical URL).

    ``content_type`` is the HTTP Content-Type header, whose charset the decoder honours.
    The date is the one the page's date markup states (``date_source="page"``), else
    ``feed_date``, the one its feed states (``"feed"``), else one htmldate finds in the page
    (URL, date-classed elements, timestamps; ``"page"``), else none.
    """
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    problem = _input_problem(data, options)
    if problem:
        return _rejected(problem, url=url, source=source, text_key=data[:4096])
    text = html if isinstance(html, str) else None
    if len(data) > options.max_html_bytes:
        data, text = drop_elements(data), None
        if len(data) > options.max_html_bytes:
            return _rejected("too-large", url=url, source=source, text_key=data[:4096])
    try:
        article = _html_article(decode(data, content_type) if text is None else text, url=url, feed_date=feed_date,
                                options=options)
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        LOGGER.warning("cannot extract %s: %s: %s", url or "(no url)", type(err).__name__, err)
        article = Article(reason="unparsable")
    article.source = source
    return _finish(article, url=url, text_key=data[:4096])


def extract_text(
    text: str, *, url: str | None = None, source: str = "", options: ExtractOptions = DEFAULT_OPTIONS
) -> Article:
    """A plain-text or Markdown article as an ``Article``: title from its first line, boilerplate removed."""
    if len(text) > options.max_text_chars:
        return _rejected("too-large", url=url, source=source, text_key=text[:4096].encode("utf-8", "replace"))
    if not text.strip():
        return _rejected("empty", url=url, source=source, text_key=b"")
    cleaned = clean_text(fix_unicode(text))
    article = Article(
        title=cleaned.title,
        text=join_paragraphs(cleaned.paragraphs),
        authors=cleaned.authors,
        published=cleaned.published,
        date_source="page" if cleaned.published else None,
        source=source,
    )
    article.language = detect_language(article.text, options)
    article.quality, article.reason = assess(
        article.text,
        article.title,
        Signals(has_date=article.published is not None, has_authors=bool(article.authors)),
    )
    return _finish(article, url=url, text_key=text.encode("utf-8", "replace"))


def extract_page(page: Page, entry: Entry | None = None, options: ExtractOptions = DEFAULT_OPTIONS) -> Article:
    """A fetched page (HTML, text or Markdown by content type and content) as an ``Article``.

    The entry, when given, names the source and fills in title, date and language the page
    lacks (``date_source`` says whether the date is the page's or the feed's); the HTTP status
    feeds the quality gate (4xx/5xx pages are ``error-page``).
    """
    url = page.final_url or page.url
    source = entry.source if entry else ""
    body = page.body or b""
    content_type = page.headers.get("content-type")
    kind = _sniff(body, page.content_type)
    if kind in ("text", "markdown"):
        article = extract_text(decode(body, content_type), url=url, source=source, options=options)
    else:
        article = extract_html(body, url=url, source=source, content_type=content_type,
                               feed_date=entry.published if entry else None, options=options)
    article.fetched_at = page.fetched_at
    if page.status >= 400 and article.reason is None:
        article.reason, article.quality = "error-page", min(article.quality, 0.2)
    if entry is not None:
        article.title = article.title or (entry.title or "")
        if article.published is None and entry.published is not None:
            article.published, article.date_source = entry.published, "feed"
        article.language = article.language or entry.language
    return article


def extract_path(path: str | Path, *, url: str | None = None, options: ExtractOptions = DEFAULT_OPTIONS) -> Article:
    """A local file (.html, .htm, .html.gz, .txt, .md, ...) as an ``Article``; ``Article.path`` is ``path`` as given."""
    given = str(path)
    name = Path(given).name.lower()
    try:
        if name.endswith(".gz"):
            with gzip.open(given, "rb") as handle:
                data = handle.read(options.max_input_bytes + 1)
            name = name[:-3]
        else:
            with open(given, "rb") as handle:
                data = handle.read(options.max_input_bytes + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        LOGGER.warning("cannot read %s: %s: %s", given, type(err).__name__, err)
        article = _rejected("unreadable", url=url, source="", text_key=given.encode("utf-8", "replace"))
        article.path = given
        return article
    suffix = Path(name).suffix
    hint = {".txt": "text/plain", ".text": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown",
            ".html": "text/html", ".htm": "text/html", ".xhtml": "text/html"}.get(suffix, "")
    kind = _sniff(data, hint)
    if kind in ("text", "markdown") and len(data) <= options.max_input_bytes:
        article = extract_text(decode(data), url=url, options=options)
    else:
        article = extract_html(data, url=url, options=options)
    article.path = given
    if not url and not article.canonical_url:
        article.id = content_id(given.encode("utf-8", "replace") + b"\0" + data[:65536])
    return article


def detect_language(text: str, options: ExtractOptions = DEFAULT_OPTIONS) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), None for too little text."""
    sample = text[: options.language_sample_chars]
    if len(sample) < 20:
        return None
    import py3langid  # lazy: loads its model on first use

    return str(py3langid.classify(sample)[0])


# --- HTML -------------------------------------------------------------------------------


def _html_article(html: str, *, url: str | None, feed_date: datetime | None, options: ExtractOptions) -> Article:
    """Run trafilatura once on parsed HTML and map the result and the page's metadata onto an ``Article``."""
    import trafilatura
    from trafilatura.utils import load_html

    from newswire.extract.layout import body_chunks, drop_inline_cards, restore_chunks
    from newswire.extract.links import drop_link_lines, link_texts
    from newswire.extract.meta import page_meta

    tree = load_html(_without_xml_declaration(html))
    if tree is None:
        return Article(reason="unparsable")
    meta = page_meta(tree, url, search_date=feed_date is None)
    links = link_texts(tree)  # before trafilatura, which prunes the tree it is given
    chunks: list[list[str]] = []
    if options.repair_layout:
        chunks = body_chunks(tree)
        drop_inline_cards(tree)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=options.fast,
        include_comments=False,
        favor_precision=options.favor_precision,
        deduplicate=False,
        include_tables=True,
    )
    text = (doc.text or "") if doc is not None else ""
    title = fix_unicode(meta.title) or _page_title(tree)
    lines = [line for line in split_lines(fix_unicode(text)) if line]
    lines = restore_chunks(lines, [[fix_unicode(p) for p in chunk] for chunk in chunks])
    lines = drop_link_lines(lines, links, (url, meta.canonical_href))
    authors = [fix_unicode(a) for a in meta.authors] or _byline(lines)
    article = Article(
        title=title,
        text=join_paragraphs(clean_extracted_lines(lines, title)),
        authors=authors,
        published=meta.published or feed_date,
        date_source="page" if meta.published else "feed" if feed_date else None,
        site_name=meta.site_name,
        description=fix_unicode(meta.description or "") or None,
        image=meta.image,
        tags=meta.tags,
        canonical_url=meta.canonical_href or "",
    )
    article.language = detect_language(article.text, options)
    signals = Signals(
        paywall_marked=meta.paywall_marked,
        has_date=article.published is not None,
        has_authors=bool(article.authors),
    )
    article.quality, article.reason = assess(article.text, article.title, signals)
    return article


def _byline(lines: list[str]) -> list[str]:
    """Authors from a by-line ("By Jane Roe") among the first lines of the text, for pages whose metadata names none."""
    for line in lines[:4]:
        names = byline_authors(line)
        if names:
            return names
    return []


def _without_xml_declaration(html: str) -> str:
    """The page without a leading ``<?xml ... encoding=...?>``: the text is decoded already, and lxml
    refuses (or, given bytes, re-decodes by) a declared encoding."""
    head = html[:200].lstrip()
    if head.startswith("<?xml"):
        end = html.find("?>", 0, 400)
        if end != -1:
            return html[end + 2 :]
    return html


def _page_title(tree) -> str:
    titles = tree.xpath("//title/text()")
    return fix_unicode(" ".join(titles[0].split())) if titles else ""


# --- inputs -----------------------------------------------------------------------------

_DROPPED_ELEMENTS = (b"script", b"style", b"svg", b"noscript")


def drop_elements(data: bytes) -> bytes:
    """HTML without comments and script, style, svg and noscript elements, for oversized pages.

    A scan with ``find`` that moves forward only (linear time, whatever the markup): an
    unclosed element or comment drops the rest of the page.
    """
    lower = data.lower()
    out: list[bytes] = []
    pos = 0
    while True:
        start = lower.find(b"<", pos)
        if start == -1:
            break
        if lower.startswith(b"<!--", start):
            close, close_len = lower.find(b"-->", start + 4), 3
        else:
            name = next((n for n in _DROPPED_ELEMENTS if lower.startswith(n, start + 1)), None)
            after = start + 1 + len(name) if name else start
            if name is None or not (lower[after : after + 1].isspace() or lower[after : after + 1] in (b">", b"/")):
                out.append(data[pos : start + 1])
                pos = start + 1
                continue
            close, close_len = lower.find(b"</" + name, after), len(name) + 2
            if close != -1:
                gt = lower.find(b">", close)
                close_len = (gt + 1 - close) if gt != -1 else len(lower) - close
        out.append(data[pos:start])
        if close == -1:
            return b"".join(out)
        pos = close + close_len
    out.append(data[pos:])
    return b"".join(out)



def _sniff(data: bytes, content_type: str = "") -> str:
    """What the bytes are: "empty", "binary", "html", "markdown" or "text"."""
    head = data[:4096]
    if not head.strip():
        return "empty"
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not _is_utf16(head)):
        return "binary"
    if content_type in ("text/plain", "text/markdown", "text/x-markdown"):
        if _HTML_SNIFF.search(head[:1024]) and head.lstrip()[:1] == b"<":
            return "html"
        return "markdown" if content_type.endswith("markdown") else "text"
    if content_type in ("text/html", "application/xhtml+xml") or _HTML_SNIFF.search(head):
        return "html"
    return "text"


def _is_utf16(head: bytes) -> bool:
    return head[:2] in (b"\xff\xfe", b"\xfe\xff")


def _input_problem(data: bytes, options: ExtractOptions) -> str | None:
    """Why the raw input cannot be an article before parsing it, if it cannot."""
    if len(data) > options.max_input_bytes:
        return "too-large"
    kind = _sniff(data, "text/html")
    if kind in ("empty", "binary"):
        return kind
    if _control_share(data[:65536]) > 0.1:
        return "binary"
    return None


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _control_share(data: bytes) -> float:
    """Share of bytes that are C0 control characters (other than whitespace): high for binary data."""
    if not data:
        return 0.0
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)


# --- ids --------------------------------------------------------------------------------


def _finish(article: Article, *, url: str | None, text_key: bytes) -> Article:
    """Set url, canonical URL and id: the canonical URL's hash when a URL is known, else a content hash."""
    declared = article.canonical_url or None
    if url:
        article.url = url
        article.canonical_url = prefer_canonical(url, declared)
    elif declared and declared.lower().startswith(("http://", "https://")):
        article.canonical_url = canonicalize(declared)
    else:
        article.canonical_url = ""
    if article.canonical_url:
        article.id = article_id(article.canonical_url)
    else:
        article.id = content_id(article.text.encode("utf-8") or text_key)
    return article


def _rejected(reason: str, *, url: str | None, source: str, text_key: bytes) -> Article:
    """An ``Article`` that is not one: no text, score 0, ``reason`` set."""
    return _finish(Article(source=source, reason=reason, quality=0.0), url=url, text_key=text_key)
