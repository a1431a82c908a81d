"""Full-text search over articles and claims, with filters and highlights.

Relevance: the words of the query must match (in the English-analysed fields, their
``std`` standard-analysed twins, or a language field), and matches of the whole
query as a phrase score higher, so quoting a sentence finds the article it comes
from first. Only canonical articles are returned unless duplicates are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from elasticsearch import Elasticsearch

from newswire.index import names

ARTICLE_FIELDS = ["title^3", "title.std^2", "description^1.5", "description.std", "text", "text.std", "title_*^3", "text_*"]
ARTICLE_PHRASE_FIELDS = ["title^6", "title.std^6", "text^4", "text.std^4", "title_*^6", "text_*^4"]
CLAIM_FIELDS = ["text", "text.std", "text_*"]
CLAIM_PHRASE_FIELDS = ["text^4", "text.std^4", "text_*^4"]
PHRASE_BOOST = 3.0
#: Up to two words: all must match; more: three quarters of them.
MIN_SHOULD_MATCH = "2<75%"
ARTICLE_SOURCE = [
    "id", "url", "source", "title", "published", "language", "is_canonical", "cluster_id",
    "duplicate_of", "duplicate_count", "copy_sources", "claim_count",
]
CLAIM_SOURCE = [
    "id", "article_id", "text", "title", "url", "source", "published", "language",
    "speaker", "verb", "quote", "score", "checkworthy", "is_canonical",
    "group_id", "group_first", "group_size", "group_outlets", "group_outlet_count",  # claim groups
]


@dataclass(kw_only=True, slots=True)
class Hit:
    """One search result: id, score, the stored fields asked for, and highlighted fragments."""

    id: str
    score: float | None
    doc: dict[str, Any]
    highlights: dict[str, list[str]] = field(default_factory=dict)

    def fragments(self) -> list[str]:
        """All highlighted fragments, without repeats (a field and its ``std`` twin often agree)."""
        seen: list[str] = []
        for frags in self.highlights.values():
            seen.extend(f for f in frags if f not in seen)
        return seen


@dataclass(kw_only=True, slots=True)
class SearchResult:
    total: int
    hits: list[Hit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "hits": [{"id": h.id, "score": h.score, **h.doc, "highlights": h.highlights} for h in self.hits],
        }


def _date(value: str | date | datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _filters(
    *, source: str | None, since: Any, until: Any, lang: str | None, include_duplicates: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(filter, must_not) clauses for the common filters."""
    filters: list[dict[str, Any]] = []
    if source:
        filters.append({"term": {"source": source}})
    if lang:
        filters.append({"term": {"language": lang}})
    if since is not None or until is not None:
        bounds = {k: v for k, v in (("gte", _date(since)), ("lte", _date(until))) if v is not None}
        filters.append({"range": {"published": bounds}})
    # Not "is_canonical: true": a document without cluster fields is its own canonical.
    must_not = [] if include_duplicates else [{"term": {"is_canonical": False}}]
    return filters, must_not


def _text_query(query: str, fields: list[str], phrase_fields: list[str]) -> dict[str, Any]:
    if not query.strip():
        return {"match_all": {}}
    return {
        "bool": {
            "must": [{"multi_match": {"query": query, "fields": fields, "type": "cross_fields", "minimum_should_match": MIN_SHOULD_MATCH}}],
            "should": [{"multi_match": {"query": query, "fields": phrase_fields, "type": "phrase", "slop": 1, "boost": PHRASE_BOOST}}],
        }
    }


def _run(
    es: Elasticsearch, index: str, query: str, text_query: dict[str, Any], filters: list, must_not: list,
    highlight: dict[str, Any], source: list[str], size: int,
) -> SearchResult:
    body: dict[str, Any] = {
        "query": {"bool": {"must": [text_query], "filter": filters, "must_not": must_not}},
        "size": size,
        "track_total_hits": True,
        "source": source,
    }
    if query.strip():
        body["highlight"] = highlight
    else:  # no words: newest first
        body["sort"] = [{"published": {"order": "desc", "missing": "_last"}}, "_doc"]
    response = es.search(index=index, **body)
    hits = [
        Hit(id=h["_id"], score=h.get("_score"), doc=h.get("_source", {}), highlights=h.get("highlight", {}))
        for h in response["hits"]["hits"]
    ]
    return SearchResult(total=response["hits"]["total"]["value"], hits=hits)


def search_articles(
    es: Elasticsearch,
    query: str,
    *,
    source: str | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    lang: str | None = None,
    include_duplicates: bool = False,
    size: int = 10,
    prefix: str = names.DEFAULT_PREFIX,
) -> SearchResult:
    """Search articles. ``since``/``until`` bound ``published`` (ISO dates or date math like ``now-7d``).

    An empty query lists the newest articles matching the filters.
    """
    filters, must_not = _filters(
        source=source, since=since, until=until, lang=lang, include_duplicates=include_duplicates
    )
    highlight = {
        "pre_tags": ["<em>"],
        "post_tags": ["</em>"],
        "fields": {
            "title": {"number_of_fragments": 0},
            "title.std": {"number_of_fragments": 0},
            "title_*": {"number_of_fragments": 0},
            "text": {"fragment_size": 180, "number_of_fragments": 3},
            "text.std": {"fragment_size": 180, "number_of_fragments": 3},
            "text_*": {"fragment_size": 180, "number_of_fragments": 3},
        },
    }
    return _run(
        es, names.alias(prefix, "articles"), query,
        _text_query(query, ARTICLE_FIELDS, ARTICLE_PHRASE_FIELDS), filters, must_not,
        highlight, ARTICLE_SOURCE, size,
    )


def search_claims(
    es: Elasticsearch,
    query: str,
    *,
    source: str | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    lang: str | None = None,
    speaker: str | None = None,
    include_duplicates: bool = False,
    size: int = 10,
    prefix: str = names.DEFAULT_PREFIX,
) -> SearchResult:
    """Search claims (check-worthy sentences), optionally by speaker; same filters as articles."""
    filters, must_not = _filters(
        source=source, since=since, until=until, lang=lang, include_duplicates=include_duplicates
    )
    if speaker:
        filters.append({"match": {"speaker": {"query": speaker, "operator": "and"}}})
    highlight = {
        "pre_tags": ["<em>"],
        "post_tags": ["</em>"],
        "fields": {"text": {"number_of_fragments": 0}, "text.std": {"number_of_fragments": 0}, "text_*": {"number_of_fragments": 0}},
    }
    return _run(
        es, names.alias(prefix, "claims"), query,
        _text_query(query, CLAIM_FIELDS, CLAIM_PHRASE_FIELDS), filters, must_not,
        highlight, CLAIM_SOURCE, size,
    )
