"""kNN search over stored claims by meaning (``newswire claims similar``)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from newswire.index import names

RESULT_FIELDS = ["id", "text", "speaker", "source", "url", "published", "article_id", "group_id", "group_first",
                 "group_size", "group_outlets", "group_outlet_count", "group_first_published", "group_carriers"]


def similar_claims(es: Elasticsearch, vector: list[float], *, size: int = 10,
                   prefix: str = names.DEFAULT_PREFIX) -> list[dict[str, Any]]:
    """The ``size`` canonical claims nearest to ``vector`` (cosine), best first, with their group fields.

    ``similarity`` is the cosine (Elasticsearch scores cosine as (1 + cos) / 2).
    """
    response = es.search(
        index=names.alias(prefix, "claims"),
        knn={"field": "embedding", "query_vector": vector, "k": size, "num_candidates": max(100, 4 * size),
             "filter": {"bool": {"must_not": [{"term": {"is_canonical": False}}]}}},
        size=size, _source=RESULT_FIELDS,
    )
    return [{**hit["_source"], "similarity": round(2 * float(hit["_score"]) - 1, 4)}
            for hit in response["hits"]["hits"]]
