"""Retention: delete articles and claims older than a number of days.

``_delete_by_query`` lives in the reindex module, which the core server lacks, so
deletion is a scroll over the matching ids and bulk deletes: the same on every
cluster.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch, helpers

from newswire.index import names

#: Which date decides an item's age, per index kind.
AGE_FIELDS = {"articles": "published", "claims": "published", "runs": "@timestamp", "deadletter": "@timestamp"}


def delete_older_than(
    es: Elasticsearch,
    days: int,
    prefix: str = names.DEFAULT_PREFIX,
    kinds: tuple[str, ...] = ("articles", "claims"),
) -> dict[str, int]:
    """Delete documents whose age field is more than ``days`` days ago; returns deletions per kind.

    Documents without the date (an article with no known publication time) are
    judged by when they were indexed instead, so they do not live forever.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    deleted: dict[str, int] = {}
    for kind in kinds:
        alias = names.alias(prefix, kind)
        field = AGE_FIELDS[kind]
        cutoff = f"now-{days}d"
        old = {"range": {field: {"lt": cutoff}}}
        if kind in ("articles", "claims"):
            undated_old = {
                "bool": {
                    "must_not": {"exists": {"field": field}},
                    "filter": {"range": {"indexed_at": {"lt": cutoff}}},
                }
            }
            query = {"bool": {"should": [old, undated_old], "minimum_should_match": 1}}
        else:
            query = old
        actions = (
            {"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]}
            for hit in helpers.scan(es, index=alias, query={"query": query, "_source": False})
        )
        count, _ = helpers.bulk(es, actions, raise_on_error=False, refresh=True)
        deleted[kind] = count
    return deleted
