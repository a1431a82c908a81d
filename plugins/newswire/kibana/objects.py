"""Kibana saved objects for newswire, generated from code so they follow the mappings.

Data views for articles, claims and run reports; saved searches "Latest articles",
"Claims by speaker", "Claims carried by several outlets" and "Most-carried claims"; Lens charts and the "Ingestion overview" dashboard that
places them. Ids are deterministic (derived from the index prefix), so importing
again with ``overwrite=true`` replaces rather than duplicates.
``newswire.kibana.validate`` checks them against the index mappings and against
what Kibana enforces.
"""

from __future__ import annotations

import json
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


def xy(series: str, x: str, y: str | list[str], split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "layerId": "layer1", "layerType": "data", "seriesType": series, "xAccessor": x,
        "accessors": [y] if isinstance(y, str) else list(y),
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
    # Terms before the date histogram in every split chart: Lens picks the top N of the first
    # bucket column over the whole range, then splits it per interval (top sources overall).
    per_source = lens(
        prefix, "articles-per-source", "articles", "Articles per source over time",
        {"split": terms("source", 10, "y"), "x": date_histogram("indexed_at"), "y": count()},
        "lnsXY", xy("bar_stacked", "x", "y", "split"),
    )
    duplicates = lens(
        prefix, "duplicate-ratio", "articles", "Duplicate ratio (canonical vs copies)",
        {"group": terms("is_canonical", 2, "n", "boolean"), "n": count()},
        "lnsPie", donut("group", "n"),
    )
    speakers = lens(
        prefix, "top-claim-speakers", "claims", "Top claim speakers",
        {"speaker": terms("speaker_key", 15, "n"), "n": count("Claims")},  # people, not spellings
        "lnsXY", xy("bar_horizontal", "speaker", "n"),
    )
    failures = lens(
        prefix, "failed-fetches", "runs", "Failed fetches per source",
        {"split": terms("source", 10, "y"), "x": date_histogram("@timestamp"), "y": metric("sum", "failed_count", "Failed items")},
        "lnsXY", xy("bar_stacked", "x", "y", "split"), query="kind : source",
    )
    freshness = lens(
        prefix, "freshness-lag", "runs", "Freshness lag p50 and p95 (seconds, published to indexed)",
        {
            "x": date_histogram("@timestamp"),
            # the median over the run reports' per-run p50 and p95, as the title says
            "y": metric("median", "freshness_lag_median_seconds", "p50 lag (s)"),
            "y95": metric("median", "freshness_lag_p95_seconds", "p95 lag (s)"),
        },
        "lnsXY", xy("line", "x", ["y", "y95"]), query="kind : source",
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
        [["speaker_key", "asc"], ["score", "desc"]], "speaker_key : *",
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


GRID_COLUMNS = 48  # the dashboard grid's width in Kibana
PANEL_HEIGHT = 15


def dashboard(prefix: str, panels_objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A dashboard placing the given charts two per row and each search on a row of its own (by reference)."""
    panels, references = [], []
    x = y = 0
    for n, obj in enumerate(panels_objects):
        pid = f"p{n + 1}"
        width = GRID_COLUMNS if obj["type"] == "search" else GRID_COLUMNS // 2
        if x + width > GRID_COLUMNS:  # no room left on this row
            x, y = 0, y + PANEL_HEIGHT
        panels.append(
            {
                "version": PANEL_VERSION,
                "type": obj["type"],
                "gridData": {"x": x, "y": y, "w": width, "h": PANEL_HEIGHT, "i": pid},
                "panelIndex": pid,
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{pid}",
            }
        )
        references.append({"name": f"{pid}:panel_{pid}", "type": obj["type"], "id": obj["id"]})
        x += width
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
