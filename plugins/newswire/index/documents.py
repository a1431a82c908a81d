"""Turn the pipeline's records into the documents the index mappings describe.

Pure functions, no client: the one place that knows the article and claim
document fields (see ``newswire/templates/*.json``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newswire.ids import article_id, claim_id
from newswire.index.languages import field_language
from newswire.models import Article, Claim, Fingerprint

CLUSTER_FIELDS = ("cluster_id", "is_canonical", "duplicate_of", "duplicate_count", "copy_sources", "copy_urls")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stored_datetime(value: Any) -> datetime | None:
    """A date field as read back from a stored document (ISO 8601, "Z" allowed); None when absent or empty."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def claim_fields(claim: Claim) -> dict[str, Any]:
    """A claim as it sits inside its article document."""
    return _drop_none(
        {
            "text": claim.text,
            "score": claim.score,
            "checkworthy": claim.checkworthy,
            "sentence_index": claim.sentence_index,
            "speaker": claim.speaker,
            "verb": claim.verb,
            "quote": claim.quote,
            "numbers": list(claim.numbers),
        }
    )


def lone_cluster(doc_id: str) -> dict[str, Any]:
    """Cluster fields of an article with no known copies: its own canonical."""
    return {
        "cluster_id": doc_id,
        "is_canonical": True,
        "duplicate_of": None,
        "duplicate_count": 0,
        "copy_sources": [],
        "copy_urls": [],
    }


def article_document(
    article: Article,
    fingerprint: Fingerprint | None = None,
    cluster: dict[str, Any] | None = None,
    indexed_at: datetime | None = None,
) -> dict[str, Any]:
    """The article document, with ``id`` = sha1 of the canonical URL.

    Args:
        article: the cleaned article (its claims, if any, are embedded).
        fingerprint: dedup's fingerprint; its band keys make the article findable
            as a near-duplicate candidate later.
        cluster: the cluster fields from dedup (``cluster_id``, ``is_canonical``,
            ...); without them the article is its own canonical.
        indexed_at: the write time (now, UTC, if not given).

    Raises:
        ValueError: the article has neither a canonical URL nor a URL, or the
            cluster dict carries fields the mapping does not know.
    """
    canonical = article.canonical_url or article.url
    if not canonical:
        raise ValueError("an article needs a url or canonical_url to get an id")
    doc_id = article.id or article_id(canonical)
    indexed_at = _utc(indexed_at or datetime.now(UTC))
    lag = (indexed_at - _utc(article.published)).total_seconds() if article.published else None
    doc: dict[str, Any] = {
        "id": doc_id,
        "url": article.url or canonical,
        "canonical_url": canonical,
        "source": article.source,
        "title": article.title,
        "text": article.text,
        "description": article.description,
        "authors": list(article.authors),
        "site_name": article.site_name,
        "image": article.image,
        "tags": list(article.tags),
        "published": _iso(article.published),
        "fetched_at": _iso(article.fetched_at),
        "indexed_at": _iso(indexed_at),
        "freshness_lag_seconds": lag,
        "language": article.language,
        "quality": article.quality,
        "word_count": len(article.text.split()),
        "claims": [claim_fields(c) for c in article.claims],
        "claim_count": len(article.claims),
    }
    code = field_language(article.language)
    if code:
        doc[f"title_{code}"] = article.title
        doc[f"text_{code}"] = article.text
    if fingerprint is not None:
        doc.update(
            exact_hash=fingerprint.exact_hash,
            band_keys=list(fingerprint.band_keys),
            minhash=list(fingerprint.minhash),
            shingle_count=fingerprint.shingle_count,
        )
    fields = lone_cluster(doc_id)
    if cluster:
        unknown = set(cluster) - set(CLUSTER_FIELDS)
        if unknown:
            raise ValueError(f"unknown cluster fields: {sorted(unknown)}")
        fields.update(cluster)
    doc.update(fields)
    return _drop_none(doc)


def embedding_fields(text: str, vector: list[float]) -> dict[str, Any]:
    """A claim's vector, the model that made it and its quantities (what grouping compares)."""
    from newswire.claims.embedding import current_model_id
    from newswire.claims.groups import quantity_key

    return {"embedding": list(vector), "embedding_model": current_model_id(), "quantity_key": quantity_key(text)}


def claim_documents(article: Article, article_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One claims-index document per claim of the article, ids ``<article id>-<sentence index>``."""
    docs = []
    code = field_language(article_doc.get("language"))
    for claim in article.claims:
        doc = {
            **claim_fields(claim),
            "id": claim_id(article_doc["id"], claim.sentence_index),
            "article_id": article_doc["id"],
            "title": article_doc.get("title"),
            "url": article_doc.get("url"),
            "source": article_doc.get("source"),
            "published": article_doc.get("published"),
            "language": article_doc.get("language"),
            "cluster_id": article_doc.get("cluster_id"),
            "is_canonical": article_doc.get("is_canonical", True),
            "indexed_at": article_doc.get("indexed_at"),
        }
        if code:
            doc[f"text_{code}"] = claim.text
        if claim.embedding is not None:
            doc.update(embedding_fields(claim.text, claim.embedding))
        docs.append(_drop_none(doc))
    return docs
