"""Dedup items from local files, cleaned exactly as the pipeline cleans fetched pages."""

from __future__ import annotations

from collections.abc import Iterable

from newswire.dedup.cluster import DedupItem, stated_date
from newswire.dedup.fingerprint import fingerprint
from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.extract import extract_path
from newswire.models import Article


def read_article(path: str) -> Article:
    """The cleaned ``Article`` of a local text or HTML file, by the pipeline's own extraction.

    A file the quality gate rejects still gets its (possibly empty) text: every
    input is clustered, an empty text as a singleton.
    """
    return extract_path(path)


def item_from_article(item_id: str, article: Article, params: DedupParams = DEFAULT_PARAMS) -> DedupItem:
    """A ``DedupItem`` for an extracted article, fingerprinted from its cleaned body."""
    return DedupItem(
        id=item_id,
        fingerprint=fingerprint(article.text or "", params),
        published=stated_date(article.published, article.date_source),
        fetched_at=None,  # a local file's read time is no fetch time: it would make the canonical depend on order
        source=article.source or "",
        url=article.url or "",
    )


def load_items(paths: Iterable[str], params: DedupParams = DEFAULT_PARAMS) -> list[DedupItem]:
    """One ``DedupItem`` per path (id = the path as given)."""
    return [item_from_article(path, read_article(path), params) for path in paths]
