"""Create newswire's templates and indices: detect the cluster, then set up idempotently.

``ensure_indices`` may run on every start (Airflow set-up task, ``newswire setup``,
the compose init service): templates are overwritten with the current ones and
indices that already sit behind their alias are left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from elasticsearch import ApiError, AuthorizationException, BadRequestError, Elasticsearch

from newswire.index import names
from newswire.index.templates import (
    Capabilities,
    component_templates,
    index_templates,
    mapping,
    settings_component_name,
)

log = logging.getLogger(__name__)

ANALYSIS_MODULE = "analysis-common"


def detect_capabilities(es: Elasticsearch) -> Capabilities:
    """What the cluster offers, from the modules and plugins every node reports.

    A feature counts only if every node has it (an index may land on any node).
    Users without the ``monitor`` privilege cannot list nodes: then ask the
    analyzer directly.
    """
    try:
        info = es.nodes.info(metric="plugins").body
    except AuthorizationException:
        log.info("cannot list node modules (no monitor privilege); probing the english analyzer")
        return Capabilities(analysis_common=_english_analyzer_works(es))
    per_node: list[set[str]] = []
    versions: set[str] = set()
    for node in info.get("nodes", {}).values():
        present = {m["name"] for m in node.get("modules", [])} | {p["name"] for p in node.get("plugins", [])}
        per_node.append(present)
        versions.add(node.get("version", ""))
    common = set.intersection(*per_node) if per_node else set()
    return Capabilities(
        analysis_common=ANALYSIS_MODULE in common,
        modules=frozenset(common),
        version=",".join(sorted(versions)),
    )


def _english_analyzer_works(es: Elasticsearch) -> bool:
    try:
        es.indices.analyze(analyzer="english", text="running")
    except BadRequestError:
        return False
    return True


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _stored_checksums(es: Elasticsearch, prefix: str) -> dict[str, str]:
    """Checksums of the newswire templates already on the cluster, by name."""
    found: dict[str, str] = {}
    components = es.cluster.get_component_template(name=f"{prefix}-*", ignore=404).body
    for item in components.get("component_templates", []):
        found[item["name"]] = item["component_template"].get("_meta", {}).get("checksum", "")
    indexes = es.indices.get_index_template(name=f"{prefix}-*", ignore=404).body
    for item in indexes.get("index_templates", []):
        found[item["name"]] = item["index_template"].get("_meta", {}).get("checksum", "")
    return found


def put_templates(
    es: Elasticsearch, prefix: str, caps: Capabilities, kinds: Iterable[str] = names.KINDS
) -> list[str]:
    """Write the component and index templates that differ from the stored ones; returns their names.

    Each template carries a checksum of its body in ``_meta``, so an unchanged
    template is not rewritten (Elasticsearch validates every PUT, which is slow).
    """
    kinds = set(kinds)
    stored = _stored_checksums(es, prefix)
    written = []
    wanted = [("component", name, body) for name, body in component_templates(prefix, caps).items()]
    wanted += [
        ("index", name, body) for name, body in index_templates(prefix).items()
        if name.removeprefix(f"{prefix}-") in kinds
    ]
    for type_, name, body in wanted:
        checksum = _checksum(body)
        if stored.get(name) == checksum:
            continue
        body = {**body, "_meta": {**body.get("_meta", {}), "checksum": checksum}}
        if type_ == "component":
            es.cluster.put_component_template(name=name, **body)
        else:
            es.indices.put_index_template(name=name, **body)
        written.append(name)
    return written


def current_index(es: Elasticsearch, alias: str) -> str | None:
    """The index an alias writes to (its write index, or its only index), or None if no alias."""
    if not es.indices.exists_alias(name=alias):
        return None
    found = es.indices.get_alias(name=alias).body
    writers = [idx for idx, spec in found.items() if spec["aliases"][alias].get("is_write_index")]
    candidates = writers or sorted(found)
    return candidates[-1]


def create_versioned_index(es: Elasticsearch, prefix: str, kind: str, version: int) -> str:
    """Create ``{prefix}-{kind}-v{version}`` from its template, without any alias. Returns the name."""
    index = names.versioned(prefix, kind, version)
    es.indices.create(index=index)
    return index


def ensure_indices(
    es: Elasticsearch,
    prefix: str = names.DEFAULT_PREFIX,
    caps: Capabilities | None = None,
    kinds: Iterable[str] = names.KINDS,
) -> dict[str, Any]:
    """Make sure the templates exist and every kind has a versioned index behind its alias.

    ``kinds`` limits the work to some index kinds (all by default). Returns a
    summary: the analysis mode, the templates written (unchanged ones are skipped) and per kind the
    alias, its index and a status (``created``, ``exists``, or ``outdated`` when the
    index predates the current mapping version and needs ``newswire reindex``).
    """
    caps = caps or detect_capabilities(es)
    kinds = list(kinds)
    summary: dict[str, Any] = {
        "analysis": caps.analysis,
        "templates": put_templates(es, prefix, caps, kinds),
        "indices": {},
    }
    for kind in kinds:
        version = names.MAPPING_VERSIONS[kind]
        alias = names.alias(prefix, kind)
        index = current_index(es, alias)
        if index is not None:
            status = "outdated" if names.version_of(index) < version else "exists"
            if status == "exists" and names.alias(prefix, kind) in summary["templates"]:
                _add_new_fields(es, index, kind)
        else:
            if es.indices.exists(index=alias):
                raise RuntimeError(
                    f"{alias} is a concrete index, not an alias; move its documents to "
                    f"{names.versioned(prefix, kind, version)} and alias it before running set-up"
                )
            index = names.versioned(prefix, kind, version)
            status = _create_with_alias(es, index, alias)
        summary["indices"][kind] = {"alias": alias, "index": index, "status": status}
    return summary


def _add_new_fields(es: Elasticsearch, index: str, kind: str) -> None:
    """Give an existing index the fields its (rewritten) template gained within the same mapping version."""
    try:
        es.indices.put_mapping(index=index, properties=mapping(kind)["properties"])
    except BadRequestError as err:
        raise RuntimeError(
            f"the {kind} mapping changed incompatibly ({err.message}); bump names.MAPPING_VERSIONS[{kind!r}] "
            "and run `newswire reindex`"
        ) from err


def _create_with_alias(es: Elasticsearch, index: str, alias: str) -> str:
    try:
        es.indices.create(index=index, aliases={alias: {"is_write_index": True}})
    except ApiError as err:  # a concurrent set-up created it first
        if err.error != "resource_already_exists_exception":
            raise
        es.indices.update_aliases(actions=[{"add": {"index": index, "alias": alias, "is_write_index": True}}])
        return "exists"
    return "created"


def drop(es: Elasticsearch, prefix: str) -> None:
    """Delete every index and template of a prefix (tests, benchmarks; never on a live prefix)."""
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all")
    for name in index_templates(prefix):
        es.options(ignore_status=404).indices.delete_index_template(name=name)
    es.options(ignore_status=404).cluster.delete_component_template(name=settings_component_name(prefix))
