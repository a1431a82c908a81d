"""Canonical URLs: one spelling per article, so its id (a hash of it) is stable across feeds.

``canonicalize`` lower-cases scheme and host, drops default ports, the fragment and tracking
parameters (``utm_*``, ``fbclid``, ``gclid``, ... via courlan), and sorts the query. The page's own
``<link rel="canonical">`` is preferred when it is trustworthy (see :func:`prefer_canonical`).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url
from tld import get_fld  # courlan's own dependency: the public-suffix list


def canonicalize(url: str) -> str:
    """The canonical spelling of an http(s) URL; other URLs come back stripped but otherwise unchanged."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    try:
        normalized = normalize_url(url, strict=False, trailing_slash=True)
    except (ValueError, TypeError):  # courlan gives up on some malformed netlocs
        normalized = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))
    return urlunsplit(urlsplit(normalized)._replace(fragment=""))


def _site(url: str) -> str:
    """The registrable domain (``bbc.co.uk`` for ``https://feeds.bbc.co.uk/x``), or the host for IPs/local names."""
    return get_fld(url, fail_silently=True) or (urlsplit(url).hostname or "")


def prefer_canonical(page_url: str, canonical_href: str | None, *, allow_cross_site: bool = False) -> str:
    """The page's declared canonical URL when it is usable, else the page URL; canonicalised either way.

    The declared link is ignored when it is not http(s), points at the site's home page from a deeper
    page (a common CMS mistake), or, unless ``allow_cross_site``, lives on another site: an article
    id is a hash of this URL, so a page must not be able to claim another site's article.
    """
    page = canonicalize(page_url)
    if not canonical_href or not canonical_href.strip():
        return page
    candidate = urlsplit(urljoin(page_url, canonical_href.strip()))
    page_parts = urlsplit(page)
    if candidate.scheme.lower() not in ("http", "https") or not candidate.hostname:
        return page
    if candidate.path in ("", "/") and not candidate.query and page_parts.path not in ("", "/"):
        return page
    if not allow_cross_site and _site(urlunsplit(candidate)) != _site(page):
        return page
    return canonicalize(urlunsplit(candidate))
