"""Kibana saved objects for newswire, generated from code so they follow the mappings.

Data views for articles, claims and run reports; saved searches "Latest articles",
"Claims by speaker", "Claims carried by several outlets" and "Most-carried claims"; Lens charts and the "Ingestion overview" dashboard that
places them. Ids are deterministic (derived from the index prefix), so importing
again with ``overwrite=true`` replaces rather than duplicates.

``field_references`` lists every index field the objects use, with what the use
needs (a date, a number, an aggregatable field), so a test can hold them against
the index mappings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from newswire.index import names

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.9.0", "dashboard": "8.7.0"}
PANEL_VERSION = "8.11.0"
RECORDS = "___records___"  # Lens's pseudo-field for "count of documents"

#: Index kind -> (time field, fields hidden from Discover's document view).
DATA_VIEWS: dict[str, tuple[str, list[str]]] = {
    # indexed_at, not published: every article has it, so none drops out of time-filtered views
    "articles": ("indexed_at", ["band_keys", "minhash", "title_*", "text_*"]),
    "claims": ("indexed_at", ["text_*", "embedding", "group_carriers"]),
    "runs": ("@timestamp", []),
}


@dataclass(frozen=True, slots=True)
class FieldRef:
    """One use of an index field by a saved object."""

    kind: str  # index kind: articles, claims, runs
    field: str  # field path or wildcard pattern (source filters)
    need: str  # date | number | aggregatable | sortable | exists
    where: str  # which object uses it, for messages


def data_view_id(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}-data-view"


def _saved(type_: str, id_: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "type": type_,
        "id": id_,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[type_],
        "managed": False,
    }


def data_view(prefix: str, kind: str) -> dict[str, Any]:
    time_field, hidden = DATA_VIEWS[kind]
    return _saved(
        "index-pattern",
        data_view_id(prefix, kind),
        {
            "title": names.alias(prefix, kind),
            "name": f"{prefix} {kind}",
            "timeFieldName": time_field,
            "sourceFilters": json.dumps([{"value": f} for f in hidden]),
            "fieldFormatMap": "{}",
            "fields": "[]",
            "runtimeFieldMap": "{}",
            "typeMeta": "{}",
        },
        [],
    )


def saved_search(
    prefix: str, id_suffix: str, kind: str, title: str, columns: list[str], sort: list[list[str]], query: str
) -> dict[str, Any]:
    source = {
        "query": {"query": query, "language": "kuery"},
        "filter": [],
        "highlightAll": True,
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    }
    return _saved(
        "search",
        f"{prefix}-{id_suffix}",
        {
            "title": title,
            "description": "",
            "columns": columns,
            "sort": sort,
            "hits": 0,
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)},
        },
        [{"type": "index-pattern", "id": data_view_id(prefix, kind), "name": "kibanaSavedObjectMeta.searchSourceJSON.index"}],
    )


# ---- Lens columns -------------------------------------------------------------------------

def date_histogram(field: str) -> dict[str, Any]:
    return {
        "label": field, "dataType": "date", "operationType": "date_histogram", "sourceField": field,
        "isBucketed": True, "scale": "interval",
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


def terms(field: str, size: int, order_by: str, data_type: str = "string") -> dict[str, Any]:
    return {
        "label": f"Top {size} values of {field}", "dataType": data_type, "operationType": "terms",
        "sourceField": field, "isBucketed": True, "scale": "ordinal",
        "params": {
            "size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc",
            "otherBucket": True, "missingBucket": False, "parentFormat": {"id": "terms"},
        },
    }


def count(label: str = "Articles") -> dict[str, Any]:
    return {
        "label": label, "customLabel": True, "dataType": "number", "operationType": "count",
        "sourceField": RECORDS, "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True},
    }


def metric(operation: str, field: str, label: str) -> dict[str, Any]:
    return {
        "label": label, "customLabel": True, "dataType": "number", "operationType": operation,
        "sourceField": field, "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True},
    }


def lens(
    prefix: str, id_suffix: str, kind: str, title: str, columns: dict[str, dict[str, Any]],
    visualization_type: str, visualization: dict[str, Any], query: str = "",
) -> dict[str, Any]:
    layer = "layer1"
    state = {
        "datasourceStates": {
            "formBased": {"layers": {layer: {"columns": columns, "columnOrder": list(columns), "incompleteColumns": {}}}}
        },
        "visualization": visualization,
        "query": {"query": query, "language": "kuery"},
        "filters": [],
        "internalReferences": [],
        "adHocDataViews": {},
    }
    return _saved(
        "lens",
        f"{prefix}-{id_suffix}",
        {"title": title, "description": "", "visualizationType": visualization_type, "state": state},
        [
            {"type": "index-pattern", "id": data_view_id(prefix, kind), "name": "indexpattern-datasource-current-indexpattern"},
            {"type": "index-pattern", "id": data_view_id(prefix, kind), "name": f"indexpattern-datasource-layer-{layer}"},
        ],
    )


def xy(series: str, x: str, y: str, split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "layerId": "layer1", "layerType": "data", "seriesType": series, "xAccessor": x, "accessors": [y],
    }
    if split:
        layer["splitAccessor"] = split
    return {
        "legend": {"isVisible": True, "position": "right"},
        "valueLabels": "hide",
        "preferredSeriesType": series,
        "layers": [layer],
    }


def donut(group: str, metric_col: str) -> dict[str, Any]:
    return {
        "shape": "donut",
        "layers": [
            {
                "layerId": "layer1", "layerType": "data", "primaryGroups": [group], "metrics": [metric_col],
                "numberDisplay": "percent", "categoryDisplay": "default", "legendDisplay": "default", "nestedLegend": False,
            }
        ],
    }


# ---- the objects ------------------------------------------------------------------------

def charts(prefix: str) -> list[dict[str, Any]]:
    """The Lens charts of the Ingestion overview dashboard."""
    per_source = lens(
        prefix, "articles-per-source", "articles", "Articles per source over time",
        {"x": date_histogram("indexed_at"), "split": terms("source", 10, "y"), "y": count()},
        "lnsXY", xy("bar_stacked", "x", "y", "split"),
    )
    duplicates = lens(
        prefix, "duplicate-ratio", "articles", "Duplicate ratio (canonical vs copies)",
        {"group": terms("is_canonical", 2, "n", "boolean"), "n": count()},
        "lnsPie", donut("group", "n"),
    )
    speakers = lens(
        prefix, "top-claim-speakers", "claims", "Top claim speakers",
        {"speaker": terms("speaker.keyword", 15, "n"), "n": count("Claims")},
        "lnsXY", xy("bar_horizontal", "speaker", "n"),
    )
    failures = lens(
        prefix, "failed-fetches", "runs", "Failed fetches per source",
        {"x": date_histogram("@timestamp"), "split": terms("source", 10, "y"), "y": metric("sum", "failed_count", "Failed items")},
        "lnsXY", xy("bar_stacked", "x", "y", "split"), query="kind : source",
    )
    freshness = lens(
        prefix, "freshness-lag", "runs", "Freshness lag (median seconds, published to indexed)",
        {
            "x": date_histogram("@timestamp"),
            "split": terms("source", 10, "y"),
            "y": metric("average", "freshness_lag_median_seconds", "Median lag (s)"),
        },
        "lnsXY", xy("line", "x", "y", "split"), query="kind : source",
    )
    return [per_source, duplicates, speakers, failures, freshness]


def searches(prefix: str) -> list[dict[str, Any]]:
    latest = saved_search(
        prefix, "latest-articles", "articles", "Latest articles",
        ["title", "source", "language", "published", "duplicate_count", "url"],
        [["published", "desc"]], "not is_canonical : false",
    )
    by_speaker = saved_search(
        prefix, "claims-by-speaker", "claims", "Claims by speaker",
        ["speaker", "text", "source", "published", "score"],
        [["speaker.keyword", "asc"], ["score", "desc"]], "speaker : *",
    )
    # claim groups (issue 17): one row per group, shown on its first-seen claim
    several = saved_search(
        prefix, "claims-carried-by-several-outlets", "claims", "Claims carried by several outlets",
        ["text", "group_outlet_count", "group_outlets", "group_size", "group_first_published", "source"],
        [["group_outlet_count", "desc"], ["group_first_published", "asc"]],
        "group_first : true and group_outlet_count >= 2",
    )
    most_carried = saved_search(
        prefix, "most-carried-claims", "claims", "Most-carried claims",
        ["text", "group_outlet_count", "group_outlets", "group_size", "source"],
        [["group_outlet_count", "desc"], ["group_size", "desc"]], "group_first : true",
    )
    return [latest, by_speaker, several, most_carried]


def dashboard(prefix: str, panels_objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A dashboard placing the given charts and searches two per row (by reference)."""
    panels, references = [], []
    for n, obj in enumerate(panels_objects):
        pid = f"p{n + 1}"
        wide = obj["type"] == "search"
        panels.append(
            {
                "version": PANEL_VERSION,
                "type": obj["type"],
                "gridData": {"x": 0 if wide else (n % 2) * 24, "y": (n // 2) * 15, "w": 48 if wide else 24, "h": 15, "i": pid},
                "panelIndex": pid,
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{pid}",
            }
        )
        references.append({"name": f"{pid}:panel_{pid}", "type": obj["type"], "id": obj["id"]})
    return _saved(
        "dashboard",
        f"{prefix}-ingestion-overview",
        {
            "title": "Ingestion overview",
            "description": "What newswire ingested, how much was duplicate, who is claiming what, and what failed.",
            "panelsJSON": json.dumps(panels),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            "timeRestore": True,
            "timeFrom": "now-7d",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 60000},
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        references,
    )


def saved_objects(prefix: str = names.DEFAULT_PREFIX) -> list[dict[str, Any]]:
    """Every saved object, referenced objects before the objects that use them."""
    views = [data_view(prefix, kind) for kind in DATA_VIEWS]
    chart_objs = charts(prefix)
    search_objs = searches(prefix)
    most_carried = next(o for o in search_objs if o["id"].endswith("-most-carried-claims"))
    return [*views, *search_objs, *chart_objs, dashboard(prefix, [*chart_objs, search_objs[0], most_carried])]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    """One JSON object per line, as Kibana's import API reads (stable key order, for diffs)."""
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objects)


# ---- what the objects reference --------------------------------------------------------

_NEEDS = {"date_histogram": "date", "terms": "aggregatable", "sum": "number", "average": "number",
          "median": "number", "max": "number", "min": "number"}


def _kind_of(objects: list[dict[str, Any]], data_view_ref: str) -> str:
    for obj in objects:
        if obj["type"] == "index-pattern" and obj["id"] == data_view_ref:
            return obj["attributes"]["title"].rsplit("-", 1)[-1]
    raise KeyError(f"no data view with id {data_view_ref!r} among the objects")


def _kql_fields(query: str) -> list[str]:
    return [part.split(":")[0].strip().split()[-1] for part in query.split(" and ") if ":" in part]


def field_references(objects: list[dict[str, Any]]) -> list[FieldRef]:
    """Every index field the objects use, with what each use needs of it."""
    refs: list[FieldRef] = []
    for obj in objects:
        attrs, where = obj["attributes"], f"{obj['type']} {obj['id']}"
        if obj["type"] == "index-pattern":
            kind = attrs["title"].rsplit("-", 1)[-1]
            refs.append(FieldRef(kind, attrs["timeFieldName"], "date", where))
            refs.extend(FieldRef(kind, f["value"], "exists", where) for f in json.loads(attrs["sourceFilters"]))
        elif obj["type"] == "search":
            kind = _kind_of(objects, obj["references"][0]["id"])
            refs.extend(FieldRef(kind, c, "exists", where) for c in attrs["columns"])
            refs.extend(FieldRef(kind, field, "sortable", where) for field, _ in attrs["sort"])
            query = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
            refs.extend(FieldRef(kind, f, "exists", where) for f in _kql_fields(query))
        elif obj["type"] == "lens":
            kind = _kind_of(objects, obj["references"][0]["id"])
            state = attrs["state"]
            for layer in state["datasourceStates"]["formBased"]["layers"].values():
                for column in layer["columns"].values():
                    if column["sourceField"] != RECORDS:
                        refs.append(FieldRef(kind, column["sourceField"], _NEEDS[column["operationType"]], where))
            refs.extend(FieldRef(kind, f, "exists", where) for f in _kql_fields(state["query"]["query"]))
    return refs
