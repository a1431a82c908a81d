"""Turn the pipeline's records into the documents the index mappings describe.

Pure functions, no client: the one place that knows the article and claim
document fields (see ``newswire/templates/*.json``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newswire.ids import claim_id, cluster_id
from newswire.index.languages import field_language
from newswire.models import Article, Claim, Fingerprint
from newswire.urls import canonicalize

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
            "speaker_key": claim.speaker_key,
            "verb": claim.verb,
            "quote": claim.quote,
            "numbers": list(claim.numbers),
        }
    )


def entry_urls(*urls: str | None) -> list[str]:
    """The canonical spellings of the URLs an article is known under (distinct, in order)."""
    return list(dict.fromkeys(canonicalize(u) for u in urls if u))


def lone_cluster(doc_id: str) -> dict[str, Any]:
    """Cluster fields of an article with no known copies: its own canonical."""
    return {
        "cluster_id": cluster_id(doc_id),
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
    entry_url: str | None = None,
) -> dict[str, Any]:
    """The article document, under the id extraction gave the article (``newswire.ids``).

    Args:
        article: the cleaned article (its claims, if any, are embedded).
        fingerprint: dedup's fingerprint; its band keys make the article findable
            as a near-duplicate candidate later.
        cluster: the cluster fields from dedup (``cluster_id``, ``is_canonical``,
            ...); without them the article is its own canonical.
        indexed_at: the write time (now, UTC, if not given).
        entry_url: the link the source listed the article under; stored (canonicalised)
            in ``entry_urls`` beside the final and canonical URLs, so the seen-check
            finds the article by whichever of them the next source lists.

    Raises:
        ValueError: the article has no id, or the cluster dict carries fields the
            mapping does not know.
    """
    if not article.id:
        raise ValueError("the article has no id: extraction derives it (newswire.ids)")
    doc_id = article.id
    canonical = article.canonical_url or article.url
    indexed_at = _utc(indexed_at or datetime.now(UTC))
    lag = (indexed_at - _utc(article.published)).total_seconds() if article.published else None
    doc: dict[str, Any] = {
        "id": doc_id,
        "url": article.url or canonical,
        "canonical_url": canonical,
        "entry_urls": entry_urls(entry_url, article.url, canonical),
        "source": article.source,
        "title": article.title,
        "text": article.text,
        "description": article.description,
        "authors": list(article.authors),
        "site_name": article.site_name,
        "image": article.image,
        "tags": list(article.tags),
        "published": _iso(article.published),
        "date_source": article.date_source,
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
    """The claims-index documents of an article: one per claim if it is its story's canonical, else none.

    A story's claims are stored once, under its canonical (ids ``<article id>-<sentence index>``),
    and list every outlet and URL that carried the story; a copy refers to them through its
    ``duplicate_of`` / ``cluster_id``. See ``story_claim_documents``.
    """
    if not article_doc.get("is_canonical", True):
        return []
    claims = [{**claim_fields(c), **({"embedding": c.embedding} if c.embedding is not None else {})}
              for c in article.claims]  # the vector goes to the claims index only, not into the article
    return story_claim_documents({**article_doc, "claims": claims}, article_doc)


def story_claim_documents(claims_doc: dict[str, Any], canonical_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One claims-index document per claim embedded in ``claims_doc``, for the story ``canonical_doc`` heads.

    Normally both are the canonical article's document. When the canonical has no claims
    (it was indexed without the model) they are the claims of another member of the story
    (``claims_doc``), moved under the canonical's story: their ids keep the article their
    sentences come from (``article_id``).
    """
    docs = []
    code = field_language(claims_doc.get("language"))
    outlets = sorted({s for s in [canonical_doc.get("source"), *canonical_doc.get("copy_sources", [])] if s})
    urls = [canonical_doc.get("url")] + sorted(set(canonical_doc.get("copy_urls", [])) - {canonical_doc.get("url")})
    for claim in claims_doc.get("claims", []):
        doc = {
            **claim,
            "id": claim_id(claims_doc["id"], claim["sentence_index"]),
            "article_id": claims_doc["id"],
            "canonical_id": canonical_doc["id"],
            "title": canonical_doc.get("title"),
            "url": canonical_doc.get("url"),
            "source": canonical_doc.get("source"),
            "outlets": outlets,
            "urls": [u for u in urls if u],
            "copy_count": int(canonical_doc.get("duplicate_count") or 0),
            "published": canonical_doc.get("published"),
            "language": claims_doc.get("language"),
            "cluster_id": canonical_doc.get("cluster_id"),
            "is_canonical": True,
            "indexed_at": canonical_doc.get("indexed_at"),
        }
        if code:
            doc[f"text_{code}"] = claim["text"]
        if claim.get("embedding") is not None:
            doc.update(embedding_fields(claim["text"], claim["embedding"]))
        docs.append(_drop_none(doc))
    return docs
