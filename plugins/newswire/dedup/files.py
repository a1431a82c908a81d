"""Dedup items from local files, cleaned exactly as the pipeline cleans fetched pages."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from newswire.dedup.cluster import DedupItem
from newswire.dedup.fingerprint import fingerprint
from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.models import Article


def read_article(path: str) -> Article:
    """The cleaned ``Article`` of a local text or HTML file (pipeline extraction)."""
    try:
        from newswire.extract import extract_path
    except ImportError:  # TEMPORARY until newswire.extract lands
        import trafilatura

        raw = Path(path).read_text(encoding="utf-8", errors="replace")
        if path.lower().endswith((".html", ".htm")):
            raw = trafilatura.extract(raw, include_comments=False, deduplicate=False) or ""
        return Article(text=raw, path=path)
    return extract_path(path)


def item_from_article(item_id: str, article: Article, params: DedupParams = DEFAULT_PARAMS) -> DedupItem:
    """A ``DedupItem`` for an extracted article, fingerprinted from its cleaned body."""
    return DedupItem(
        id=item_id,
        fingerprint=fingerprint(article.text or "", params),
        published=article.published,
        fetched_at=None,  # a local file's read time is no fetch time: it would make the canonical depend on order
        source=article.source or "",
        url=article.url or "",
    )


def load_items(paths: Iterable[str], params: DedupParams = DEFAULT_PARAMS) -> list[DedupItem]:
    """One ``DedupItem`` per path (id = the path as given)."""
    return [item_from_article(path, read_article(path), params) for path in paths]
