"""Article metadata of a parsed HTML page: title, authors, date, site, description, image, canonical link.

The fields come from trafilatura's metadata helpers, composed as
``trafilatura.metadata.extract_metadata`` composes them but without the parts the pipeline does
not use (license, categories and tags guessed from the page body, the whole-page author search),
which cost about a quarter of the metadata time. A single pass over ``<meta>``, ``<link>``,
JSON-LD and ``<time>`` elements gives the declared canonical URL, the paywall marker and the
publication date the page states; only a page that states none is searched by htmldate.
"""

from __future__ import annotations

import json
import logging
from collections import deque
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from htmldate import find_date
from lxml import etree
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import set_date_params

from newswire.extract.dates import find_date as find_day

LOGGER = logging.getLogger(__name__)

# <meta> names (property, name or itemprop) that state the publication date: Open Graph's article,
# schema.org microdata, Dublin Core and DCMI terms, PRISM, Highwire/Google Scholar and names common
# CMSs and analytics tags write. Modification dates are left out: they are not when it was published.
_PUBLISHED_KEYS = frozenset((
    "article:published_time", "article:published", "og:article:published_time", "og:published_time",
    "published_time", "og:pubdate", "datepublished", "dc.date.issued", "dc.date.created",
    "dc.date", "dc:date", "dcterms.issued", "dcterms.created", "dcterms.date", "dcterms:created", "dcterms:issued",
    "date", "pubdate", "publishdate", "publish-date", "publish_date", "pub_date", "published", "published_at",
    "sailthru.date", "parsely-pub-date", "citation_publication_date", "citation_date", "prism.publicationdate",
))
_EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)  # before news on the web: a placeholder (0001-01-01)
_MAX_STATED = 12  # date values looked at per page
_PAYWALL = re.compile(r'"isAccessibleForFree"\s*:\s*"?false"?', re.I)
_ARTICLE_TYPE = re.compile(  # no "\s*\[?\s*": two starred runs around an optional "[" backtrack on a run of spaces
    r'"@type"\s*:\s*(?:\[\s*)?"(?:(?:News|Blog|Report|Scholarly|Tech)?Article|BlogPosting|(?:Analysis|Opinion|Review|Background|Reportage)NewsArticle)"'
)


@dataclass(kw_only=True, slots=True)
class PageMeta:
    """What the page says about itself."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    canonical_href: str | None = None  # <link rel=canonical>, else og:url, as written
    paywall_marked: bool = False  # schema.org isAccessibleForFree = false
    declares_article: bool = False  # og:type "article" or a schema.org Article type in JSON-LD


def page_meta(tree, url: str | None, *, search_date: bool = True) -> PageMeta:
    """Metadata of a parsed page (an lxml tree from ``trafilatura.utils.load_html``); never raises.

    The date is the one the page's date markup states (``stated_published``); when it states
    none and ``search_date`` is set, htmldate's search of the rest of the page (URL, date-classed
    elements, timestamps). A caller holding a date the feed states passes ``search_date=False``:
    a publisher's stated date beats a date found by searching the page.
    """
    head = _scan_head(tree)
    meta = PageMeta(canonical_href=head["canonical"], paywall_marked=head["paywall"], declares_article=head["article"])
    meta.published = stated_published(head["published"]) or stated_published(_body_published(tree))
    try:
        doc = examine_meta(tree)
        if doc.author and " " not in doc.author:
            doc.author = None  # a single token is a handle or a site, rarely a person
        try:
            doc = extract_meta_json(tree, doc)
        except Exception as err:  # noqa: BLE001 - trafilatura's JSON-LD parser has known crashes
            LOGGER.debug("JSON-LD metadata failed: %s", err)
        doc.title = doc.title or extract_title(tree)
        # No trafilatura.metadata.extract_author fallback: its XPath search of the whole page was
        # ~8% of extraction CPU; a by-line in the extracted text is read instead (article.py).
        doc.date = page_date(tree, doc.url or url) if search_date and meta.published is None else None
        doc.sitename = doc.sitename or extract_sitename(tree)
        if doc.sitename:
            doc.sitename = doc.sitename.lstrip("@")
            if "." not in doc.sitename and not doc.sitename[:1].isupper():
                doc.sitename = doc.sitename.title()
        elif doc.url or url:
            match = META_URL.match(doc.url or url or "")
            doc.sitename = match[1] if match else None
        doc.clean_and_trim()
    except Exception as err:  # noqa: BLE001 - metadata is best effort, the body still counts
        LOGGER.warning("metadata extraction failed for %s: %s", url, err)
        return meta
    meta.title = strip_site_suffix(doc.title or "", doc.sitename, doc.url or url)
    meta.authors = _drop_site_authors(
        _unique(_clean_author(a) for a in (doc.author or "").split(";")), meta.site_name or doc.sitename, url
    )
    meta.site_name = doc.sitename or None
    meta.description = doc.description or None
    meta.image = doc.image or None
    meta.tags = _unique([*(doc.categories or []), *(doc.tags or [])])
    meta.published = meta.published or _day(doc.date)
    return meta


_TITLE_SEPARATOR = re.compile(r"\s+(\||-|–|—|›|»|::|·|•)\s+")
_STRONG_SEPARATORS = {"|", "›", "»", "::", "·", "•"}


def strip_site_suffix(title: str, site_name: str | None, url: str | None) -> str:
    """The headline without a trailing " | Site Name" (or " - site.com") that pages append to <title>.

    A part after a separator is dropped when it names the site (its name or host), or when the
    separator is one sites use for suffixes (|, ›, », ::) and the part is short.
    """
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 3:
        return title
    head, separator, tail = "".join(parts[:-2]), parts[-2], parts[-1]
    if len(head.split()) < 2:
        return title
    site_keys = {_squash(site_name or "")}
    host = re.sub(r"^https?://(?:www\d?\.)?([^/:]+).*$", r"\1", url or "")
    site_keys |= {_squash(host), _squash(host.rsplit(".", 1)[0])}
    site_keys.discard("")
    names_site = _squash(tail) in site_keys or any(k and (k in _squash(tail) or _squash(tail) in k) for k in site_keys if len(k) > 3)
    if names_site or (separator in _STRONG_SEPARATORS and len(tail.split()) <= 5):
        return head.strip()
    return title


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _scan_head(tree) -> dict:
    """One pass over meta/link/JSON-LD elements: canonical link, stated publication dates, paywall flag.

    ``published`` lists the date values the page states there, best evidence first:
    published-date ``<meta>``, then JSON-LD ``datePublished``.
    """
    canonical = og_url = None
    in_meta: list[str] = []
    in_jsonld: list[str] = []
    paywall = article = False
    for element in tree.iter("meta", "link", "script"):
        tag = element.tag
        if tag == "meta":
            content = element.get("content")
            if not content:
                continue
            keys = " ".join(element.get(a) or "" for a in ("property", "name", "itemprop")).lower().split()
            if "og:url" in keys:
                og_url = og_url or content.strip()
            elif "og:type" in keys:
                article = article or content.strip().lower() == "article"
            elif not _PUBLISHED_KEYS.isdisjoint(keys):
                in_meta.append(content.strip())
        elif tag == "link":
            if (element.get("rel") or "").lower() == "canonical" and (element.get("href") or "").strip():
                canonical = canonical or element.get("href").strip()
        elif (element.get("type") or "").strip().lower() == "application/ld+json" and element.text:
            text = element.text[:_MAX_JSONLD_CHARS]
            paywall = paywall or bool(_PAYWALL.search(text))
            article = article or bool(_ARTICLE_TYPE.search(text))
            in_jsonld.extend(_jsonld_published(text))
    published = [v for v in (*in_meta, *in_jsonld) if v][:_MAX_STATED]
    return {"canonical": canonical or og_url, "published": published, "paywall": paywall, "article": article}


_MICRODATA_PUBLISHED = etree.XPath("//*[@itemprop][not(self::meta)] | //time[@pubdate]")


def _body_published(tree) -> list[str]:
    """Date values of microdata ``datePublished`` and ``<time pubdate>`` in the page body, leaving
    out readers' comments and reviews. Read only when the head states no date (a whole-tree search)."""
    found = []
    for element in _MICRODATA_PUBLISHED(tree):
        if "datepublished" in (element.get("itemprop") or "").lower().split() or (
            element.tag == "time" and element.get("pubdate") is not None
        ):
            if not _in_user_item(element):
                found.append((element.get("datetime") or element.get("content") or element.text or "").strip())
        if len(found) >= _MAX_STATED:
            break
    return [value for value in found if value]


_MAX_JSONLD_CHARS = 500_000
_USER_ITEMS = frozenset(("comment", "usercomments", "review", "answer", "question"))


def _in_user_item(element) -> bool:
    """The element's microdata item (nearest itemscope) is a reader's comment, review or answer:
    its datePublished is that contribution's, not the page's."""
    for ancestor in element.iterancestors():
        if ancestor.get("itemscope") is not None:
            return (ancestor.get("itemtype") or "").rstrip("/").rsplit("/", 1)[-1].lower() in _USER_ITEMS
    return False


def _jsonld_published(text: str) -> list[str]:
    """``datePublished`` of the page's own JSON-LD entities (top-level objects, lists, ``@graph``).

    Deeper ones belong to comments, reviews or linked works. Invalid JSON states nothing.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []
    stack = deque([(data, 0)])  # breadth first; popleft keeps a 500 kB list of lists linear
    while stack and len(found) < _MAX_STATED:
        node, depth = stack.popleft()
        if isinstance(node, list) and depth < 3:
            stack.extend((child, depth + 1) for child in node[:100])
        elif isinstance(node, dict):
            if isinstance(node.get("datePublished"), str):
                found.append(node["datePublished"])
            if depth < 3 and "@graph" in node:
                stack.append((node["@graph"], depth + 1))
    return found


def stated_published(values: list[str]) -> datetime | None:
    """The first of the page's stated date values that is a valid date between 1995 and tomorrow.

    ISO 8601 and its common variants (a space for "T", "+0000", "2019/11/19", "20191119") keep
    their time; a spelled-out date ("November 20, 2019 13:42") is that day. A value without a
    time zone is read as UTC.
    """
    latest = datetime.now(timezone.utc) + timedelta(days=1)
    for value in values:
        stamp = _parse_stamp(value)
        if stamp is not None and _EARLIEST <= stamp <= latest:
            return stamp
    return None


# A date, with or without its time, as the start of a value fromisoformat refuses
# ("2022-05-04T03:00:00 UTC", "2018-11-28CET11:59:00+0100", "2019/11/19").
_ISO_PREFIX = re.compile(r"((?:19|20)[0-9]{2})[-/]([01][0-9])[-/]([0-3][0-9])(?:[T ]([0-2][0-9]):([0-5][0-9])(?::([0-5][0-9]))?)?")
_UTC_NAMES = {"", "z", "utc", "gmt"}


def _parse_stamp(value: str) -> datetime | None:
    value = value.strip()[:64]
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        prefix = _ISO_PREFIX.match(value)
        if prefix is None:
            return find_day(value)[0]  # "November 20, 2019 13:42": that day
        year, month, day, hour, minute, second = (int(part or 0) for part in prefix.groups())
        if value[prefix.end():].strip().lower() not in _UTC_NAMES:
            hour = minute = second = 0  # a zone we do not read: keep the day as written
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
        except ValueError:
            return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def page_date(tree, url: str | None) -> str | None:
    """The publication day the page's metadata states (YYYY-MM-DD), or None.

    htmldate without its free-text search: the URL, meta elements, JSON-LD, ``<time>`` and
    date-classed elements, timestamps. The free-text search is left out: it turns a bare year
    in running text ("the 2016 election") into a date, and it cost more CPU per page than the
    whole trafilatura pass on pages without metadata (measured on trafilatura-eval).
    """
    params = set_date_params(False)
    params["url"] = url
    return find_date(tree, **params)


def _day(date: str | None) -> datetime | None:
    """htmldate's YYYY-MM-DD as UTC midnight."""
    try:
        return datetime.strptime(date[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc) if date else None
    except ValueError:
        return None


# Words that are about when, never who: a by-line's date glued to the name ("Jeff Foust Monday").
_DATE_WORDS = frozenset(
    "published updated posted on am pm at the of last "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "today yesterday january february march april june july august september october november december "
    "feb apr jun jul aug sep sept oct nov dec".split()
)  # not "may", "jan", "mar": names too
_MAX_AUTHOR_CHARS = 200  # longer is a sentence or a list of links, not a name


_AUTHOR_LEAD = re.compile(
    r"^(?:(?:view |see )?all (?:posts|articles|stories) by|(?:more )?(?:posts|articles|stories) by|zeige alle beiträge von"
    r"|alle beiträge von|beitrag von|artikel von|written by|posted by|auteur|autor|author|by|von|par|por)\s*:?\s+",
    re.I,
)
_NOT_AUTHORS = {"posted", "name", "admin", "administrator", "author", "autor", "by", "unknown", "anonymous", "none"}


def _clean_author(name: str) -> str:
    """An author name without by-line words around it ("View all posts by X", "Jane Roe Published").

    Trailing date words and numbers go ("Jeff Foust Monday", "Jane Roe November 4, 2019"); a
    "name" that is only date words ("November") is no author.
    """
    name = _AUTHOR_LEAD.sub("", name.strip(" ,")[:_MAX_AUTHOR_CHARS])
    words = name.split()
    while words and (_is_date_word(words[-1]) or not any(ch.isalpha() for ch in words[-1])):
        words.pop()
    cleaned = " ".join(words).strip(" ,")
    return "" if not cleaned or cleaned.lower() in _NOT_AUTHORS else cleaned


def _is_date_word(word: str) -> bool:
    return word.strip(".,:;|").lower() in _DATE_WORDS


def _drop_site_authors(authors: list[str], site_name: str | None, url: str | None) -> list[str]:
    """Authors without the publication itself ("Rob Picheta; CNN" -> "Rob Picheta"), if a person remains."""
    site_keys = {_squash(site_name or "")} - {""}
    host = _squash(re.sub(r"^https?://(?:www\d?\.)?([^/:]+).*$", r"\1", url or ""))
    people = [
        a for a in authors
        if _squash(a) not in site_keys and not (host and len(_squash(a)) >= 3 and _squash(a) in host)
    ]
    return people or authors


def _unique(values) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)
