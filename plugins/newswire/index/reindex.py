"""Move an index to a new mapping version: client-side copy, check, atomic alias swap.

Elasticsearch's ``_reindex`` lives in a module the core server lacks, so the copy
is a scroll over the old index and bulk writes into the new one, which works on
every cluster. The alias moves only once the new index holds every document of
the old one; the old index is kept (delete it when satisfied). Pause ingestion
while a reindex runs: writes that land on the old index after its scroll started
would not be copied.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newswire.index import admin, names

log = logging.getLogger(__name__)

Transform = Callable[[dict[str, Any]], dict[str, Any]]


class ReindexError(RuntimeError):
    """The copy was incomplete; the alias was left where it was."""


@dataclass(kw_only=True, slots=True)
class ReindexResult:
    alias: str
    source_index: str
    target_index: str
    copied: int
    seconds: float


def next_version(es: Elasticsearch, prefix: str, kind: str, current: str) -> int:
    """The version to move to: past both the current index and any leftover newer one."""
    existing = es.indices.get(index=f"{names.alias(prefix, kind)}-v*", expand_wildcards="all").body
    versions = [names.version_of(i) for i in existing] + [names.version_of(current)]
    return max(max(versions) + 1, names.MAPPING_VERSIONS[kind])


def reindex(
    es: Elasticsearch,
    kind: str,
    prefix: str = names.DEFAULT_PREFIX,
    *,
    transform: Transform | None = None,
    batch_size: int = 1000,
) -> ReindexResult:
    """Copy ``{prefix}-{kind}`` into a new versioned index and point the alias at it.

    The templates are rewritten first so the new index gets the current mapping.
    ``transform`` may rewrite each document on the way (e.g. to fill a new field).

    Raises:
        ReindexError: some documents were refused or the counts differ; the alias
            still points at the old index and the partial new index is left for
            inspection.
    """
    started = time.perf_counter()
    alias = names.alias(prefix, kind)
    source = admin.current_index(es, alias)
    if source is None:
        raise ReindexError(f"{alias} does not exist; run `newswire setup` first")
    admin.put_templates(es, prefix, admin.detect_capabilities(es))
    target = admin.create_versioned_index(es, prefix, kind, next_version(es, prefix, kind, source))
    log.info("reindexing %s: %s -> %s", alias, source, target)
    es.indices.refresh(index=source)

    def actions():
        for hit in helpers.scan(es, index=source, query={"query": {"match_all": {}}}, size=batch_size):
            doc = transform(hit["_source"]) if transform else hit["_source"]
            yield {"_op_type": "index", "_index": target, "_id": hit["_id"], "_source": doc}

    copied, errors = helpers.bulk(es, actions(), chunk_size=batch_size, raise_on_error=False, max_retries=3)
    es.indices.refresh(index=target)
    expected = es.count(index=source)["count"]
    found = es.count(index=target)["count"]
    if errors or found != expected:
        raise ReindexError(
            f"{target} holds {found} of {expected} documents ({len(errors)} refused, first: "
            f"{errors[:1]}); {alias} still points at {source}"
        )
    es.indices.update_aliases(
        actions=[
            {"remove": {"index": source, "alias": alias}},
            {"add": {"index": target, "alias": alias, "is_write_index": True}},
        ]
    )
    return ReindexResult(
        alias=alias, source_index=source, target_index=target, copied=copied,
        seconds=time.perf_counter() - started,
    )
