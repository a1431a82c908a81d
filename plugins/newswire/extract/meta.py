"""Article metadata of a parsed HTML page: title, authors, date, site, description, image, canonical link.

The fields come from trafilatura's metadata helpers and htmldate, composed as
``trafilatura.metadata.extract_metadata`` composes them but without the parts the pipeline does
not use (license, categories and tags guessed from the page body), which cost about a quarter of
the metadata time. On top, a single pass over ``<meta>``, ``<link>`` and JSON-LD elements gives
the declared canonical URL, a full publication timestamp and the paywall marker.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from htmldate import find_date
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import set_date_params

LOGGER = logging.getLogger(__name__)

_PUBLISHED_KEYS = {"article:published_time", "datepublished", "pubdate", "publishdate", "og:published_time",
                   "dc.date.issued", "sailthru.date"}
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


def page_meta(tree, url: str | None) -> PageMeta:
    """Metadata of a parsed page (an lxml tree from ``trafilatura.utils.load_html``); never raises."""
    head = _scan_head(tree)
    meta = PageMeta(canonical_href=head["canonical"], paywall_marked=head["paywall"], declares_article=head["article"])
    try:
        doc = examine_meta(tree)
        if doc.author and " " not in doc.author:
            doc.author = None  # a single token is a handle or a site, rarely a person
        try:
            doc = extract_meta_json(tree, doc)
        except Exception as err:  # noqa: BLE001 - trafilatura's JSON-LD parser has known crashes
            LOGGER.debug("JSON-LD metadata failed: %s", err)
        doc.title = doc.title or extract_title(tree)
        doc.author = doc.author or extract_author(tree)
        date_params = set_date_params(False)  # no free-text search: a year in running text is never a date
        date_params["url"] = doc.url or url
        doc.date = find_date(tree, **date_params)
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
    meta.published = _published(doc.date, head["timestamps"])
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
    """One pass over meta/link/JSON-LD elements: canonical link, publication timestamps, paywall flag."""
    canonical = og_url = None
    timestamps: list[str] = []
    paywall = article = False
    for element in tree.iter("meta", "link", "script", "time"):
        tag = element.tag
        if tag == "meta":
            key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
            content = (element.get("content") or "").strip()
            if key == "og:url" and content:
                og_url = og_url or content
            elif key == "og:type":
                article = article or content.lower() == "article"
            elif key in _PUBLISHED_KEYS and content:
                timestamps.append(content)
        elif tag == "link":
            if (element.get("rel") or "").lower() == "canonical" and (element.get("href") or "").strip():
                canonical = canonical or element.get("href").strip()
        elif tag == "time":
            if element.get("itemprop") == "datePublished" and element.get("datetime"):
                timestamps.append(element.get("datetime").strip())
        elif (element.get("type") or "").lower() == "application/ld+json" and element.text:
            paywall = paywall or bool(_PAYWALL.search(element.text[:200_000]))
            article = article or bool(_ARTICLE_TYPE.search(element.text[:200_000]))
    return {"canonical": canonical or og_url, "timestamps": timestamps[:8], "paywall": paywall, "article": article}


def _published(date: str | None, timestamps: list[str]) -> datetime | None:
    """htmldate's day, refined to a full timestamp the page declares for that same day."""
    if not date:
        return None
    try:
        day = datetime.strptime(date[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    for raw in timestamps:
        try:
            stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            continue
        if stamp.date() == day.date():
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    return day


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
