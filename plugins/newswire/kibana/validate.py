"""Offline checks of saved objects against what Kibana enforces on import and on render.

No Kibana runs in the tests (no registry ships one), so these rules are read from Kibana's
source and applied here, by `newswire setup` before it imports and by the tests:

- Versions. Kibana's document migrator refuses a document whose ``typeMigrationVersion`` is
  newer than the newest migration it knows for the type ("belongs to a more recent version of
  Kibana"): that is the highest of the type's legacy migrations, its
  ``convertToMultiNamespaceTypeVersion`` and its model versions (written ``10.<n>.0``).
  ``coreMigrationVersion`` may not be newer than Kibana itself. A version too old makes Kibana
  run migrations written for an older shape of the object.
- References. Import reports ``missing_references`` for a reference to an object that is
  neither imported with it nor present; a dashboard panel finds its object through the
  reference named ``<panelIndex>:<panelRefName>``; a Lens layer through
  ``indexpattern-datasource-layer-<layerId>``; a saved search through its ``indexRefName``.
- Dashboard grid. 48 columns; a panel's ``gridData.i`` is its ``panelIndex``, and react-grid-layout
  moves overlapping panels around, so the layout stored is not the layout shown.
- Lens. Every accessor of the visualization names a column of its layer; ``columnOrder`` holds each
  column once, bucket columns first (Lens nests aggregations in that order, and its editor
  re-sorts them so); each operation needs a field of a fitting type, and the column's
  ``dataType`` is the field's Kibana type.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from newswire.kibana.objects import GRID_COLUMNS, RECORDS

#: The oldest Kibana the objects must import into; `newswire setup` checks against it.
OLDEST_KIBANA = "9.0.0"

#: Per type, the newest ``typeMigrationVersion`` every Kibana 9.x accepts, read in Kibana's source
#: (``src/platform/plugins/shared/*/server/saved_objects``, ``x-pack/platform/plugins/shared/lens``):
#: index-pattern registers migrations up to 8.0.0 and no model versions, so 8.0.0 is its ceiling
#: and a higher value is refused. dashboard has had model versions 1 and 2 since 8.x (10.2.0);
#: search and lens are held to their newest legacy migration, which every 9.x knows.
TYPE_VERSION_CEILINGS = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.9.0", "dashboard": "10.2.0"}

#: Per type, the oldest ``typeMigrationVersion`` the objects' shape allows: Kibana runs every
#: migration newer than the declared version, and Lens's migrations before 8.6.0 read the
#: ``datasourceStates.indexpattern`` shape that 8.6.0 renamed to the ``formBased`` these objects use.
TYPE_VERSION_FLOORS = {"lens": "8.6.0"}

#: Elasticsearch field type -> the type Kibana's data views give it.
KIBANA_FIELD_TYPES = {
    "keyword": "string", "constant_keyword": "string", "wildcard": "string", "text": "string",
    "match_only_text": "string", "long": "number", "integer": "number", "short": "number", "byte": "number",
    "double": "number", "float": "number", "half_float": "number", "scaled_float": "number",
    "unsigned_long": "number", "date": "date", "date_nanos": "date", "boolean": "boolean", "ip": "ip",
}
NOT_AGGREGATABLE = {"text", "match_only_text", "object", "nested", "dense_vector"}

#: Lens operation -> the Kibana field types it takes (``count`` also takes the records pseudo-field).
OPERATION_FIELD_TYPES = {
    "date_histogram": {"date"},
    "terms": {"string", "number", "boolean", "ip", "date"},
    "count": {"string", "number", "boolean", "ip", "date"},
    "unique_count": {"string", "number", "boolean", "ip", "date"},
    "sum": {"number"}, "average": {"number"}, "median": {"number"},
    "min": {"number", "date"}, "max": {"number", "date"}, "percentile": {"number"},
}


class KibanaObjectsError(ValueError):
    """Saved objects Kibana would refuse, or would show differently from what they say."""


def version_tuple(version: str) -> tuple[int, ...]:
    """``"8.10.0"`` -> ``(8, 10, 0)``, so versions compare as numbers, not strings."""
    return tuple(int(part) for part in version.split("-")[0].split("."))


def check(objects: list[dict[str, Any]], field_types: Callable[[str], dict[str, str]],
          kibana_version: str = OLDEST_KIBANA) -> None:
    """Raise KibanaObjectsError listing every problem ``problems`` finds."""
    found = problems(objects, field_types, kibana_version)
    if found:
        raise KibanaObjectsError("Kibana objects would not import or would render wrongly:\n  " + "\n  ".join(found))


def problems(objects: list[dict[str, Any]], field_types: Callable[[str], dict[str, str]],
             kibana_version: str = OLDEST_KIBANA) -> list[str]:
    """Every way the objects break a rule of the module docstring; [] when Kibana takes them as meant.

    Args:
        objects: saved objects as imported (``type``, ``id``, ``attributes``, ``references``).
        field_types: index kind (``articles``, ...) -> field path -> Elasticsearch type.
        kibana_version: the Kibana the objects go to.
    """
    out: list[str] = []
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        key = (obj["type"], obj["id"])
        if key in by_key:
            out.append(f"{obj['type']} {obj['id']}: the id is used twice")
        by_key[key] = obj
    kinds = {obj["id"]: obj["attributes"]["title"].rsplit("-", 1)[-1] for obj in objects if obj["type"] == "index-pattern"}
    for obj in objects:
        where = f"{obj['type']} {obj['id']}"
        out += [f"{where}: {p}" for p in _versions(obj, kibana_version)]
        for ref in obj.get("references", []):
            if (ref["type"], ref["id"]) not in by_key:
                out.append(f"{where}: reference {ref['name']} to missing {ref['type']} {ref['id']}")
        checker = _CHECKS.get(obj["type"])
        if checker is not None:  # an unknown type is reported by _versions
            out += [f"{where}: {p}" for p in checker(obj, kinds, field_types)]
    return out


def _versions(obj: dict[str, Any], kibana_version: str) -> list[str]:
    out = []
    ceiling = TYPE_VERSION_CEILINGS.get(obj["type"])
    if ceiling is None:
        return [f"no known typeMigrationVersion ceiling for type {obj['type']}"]
    if version_tuple(obj["typeMigrationVersion"]) > version_tuple(ceiling):
        out.append(f"typeMigrationVersion {obj['typeMigrationVersion']} is newer than {ceiling}, the newest Kibana knows for {obj['type']}")
    floor = TYPE_VERSION_FLOORS.get(obj["type"])
    if floor and version_tuple(obj["typeMigrationVersion"]) < version_tuple(floor):
        out.append(f"typeMigrationVersion {obj['typeMigrationVersion']} makes Kibana run migrations older than {floor} "
                   "that expect another shape")
    if version_tuple(obj["coreMigrationVersion"]) > version_tuple(kibana_version):
        out.append(f"coreMigrationVersion {obj['coreMigrationVersion']} is newer than Kibana {kibana_version}")
    return out


def _reference_names(obj: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {ref["name"]: ref for ref in obj.get("references", [])}


def _field(kind: str, field: str, field_types: Callable[[str], dict[str, str]]) -> str | None:
    return field_types(kind).get(field)


def _data_view(obj, kinds, field_types) -> list[str]:
    attrs, kind = obj["attributes"], kinds[obj["id"]]
    es_type = _field(kind, attrs["timeFieldName"], field_types)
    if KIBANA_FIELD_TYPES.get(es_type or "") != "date":
        return [f"time field {attrs['timeFieldName']} is {es_type or 'missing'}, not a date"]
    out = []
    for source_filter in json.loads(attrs["sourceFilters"]):
        if not fnmatch.filter(field_types(kind), source_filter["value"]):
            out.append(f"source filter {source_filter['value']} matches no field")
    return out


def _kql_fields(query: str) -> list[str]:
    """The field names of a simple KQL query (``field : value and ...``)."""
    return [part.split(":")[0].strip().split()[-1] for part in query.split(" and ") if ":" in part]


def _query_problems(query: str, kind: str, field_types) -> list[str]:
    return [f"query field {f} is no field of {kind}" for f in _kql_fields(query) if _field(kind, f, field_types) is None]


def _search(obj, kinds, field_types) -> list[str]:
    attrs = obj["attributes"]
    source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    ref = _reference_names(obj).get(source.get("indexRefName", ""))
    if ref is None or ref["type"] != "index-pattern":
        return [f"indexRefName {source.get('indexRefName')!r} names no data view reference"]
    kind = kinds.get(ref["id"])
    if kind is None:
        return []  # reported as a missing reference
    out = _query_problems(source["query"]["query"], kind, field_types)
    for column in attrs["columns"]:
        if _field(kind, column, field_types) is None:
            out.append(f"column {column} is no field of {kind}")
    for field, _direction in attrs["sort"]:
        es_type = _field(kind, field, field_types)
        if es_type is None or es_type in NOT_AGGREGATABLE:
            out.append(f"sort field {field} is {es_type or 'missing'}, not sortable")
    return out


def _lens(obj, kinds, field_types) -> list[str]:
    state, out = obj["attributes"]["state"], []
    refs = _reference_names(obj)
    layers = state["datasourceStates"]["formBased"]["layers"]
    for layer_id, layer in layers.items():
        ref = refs.get(f"indexpattern-datasource-layer-{layer_id}")
        if ref is None:
            out.append(f"layer {layer_id} has no data view reference")
            continue
        kind = kinds.get(ref["id"])
        out += [f"layer {layer_id}: {p}" for p in _lens_layer(layer, kind, field_types)]
        if kind is not None:
            out += _query_problems(state["query"]["query"], kind, field_types)
    for vis_layer in state["visualization"].get("layers", []):
        columns = layers.get(vis_layer["layerId"], {}).get("columns")
        if columns is None:
            out.append(f"visualization layer {vis_layer['layerId']} has no datasource layer")
            continue
        for accessor in _accessors(vis_layer):
            if accessor not in columns:
                out.append(f"accessor {accessor} names no column of layer {vis_layer['layerId']}")
    return out


def _accessors(vis_layer: dict[str, Any]) -> list[str]:
    """Column ids an XY or partition (pie) layer shows."""
    single = [vis_layer[k] for k in ("xAccessor", "splitAccessor") if vis_layer.get(k)]
    listed = [a for k in ("accessors", "primaryGroups", "secondaryGroups", "metrics") for a in vis_layer.get(k, [])]
    return single + listed


def _lens_layer(layer: dict[str, Any], kind: str | None, field_types) -> list[str]:
    columns, order, out = layer["columns"], layer["columnOrder"], []
    if sorted(order) != sorted(columns) or len(set(order)) != len(order):
        out.append(f"columnOrder {order} does not list each of the columns {sorted(columns)} once")
    bucketed = [columns[c]["isBucketed"] for c in order if c in columns]
    if bucketed != sorted(bucketed, reverse=True):
        out.append(f"columnOrder {order} puts a metric before a bucket column")
    for column_id, column in columns.items():
        out += [f"column {column_id}: {p}" for p in _lens_column(column, columns, order, kind, field_types)]
    return out


def _lens_column(column, columns, order, kind, field_types) -> list[str]:
    operation, field, out = column["operationType"], column["sourceField"], []
    allowed = OPERATION_FIELD_TYPES.get(operation)
    if allowed is None:
        return [f"unknown operation {operation}"]
    if column["isBucketed"] != (operation in {"date_histogram", "terms"}):
        out.append(f"isBucketed is {column['isBucketed']} for {operation}")
    if operation == "count" and field == RECORDS:
        es_type = None
    elif kind is None:
        return out
    else:
        es_type = _field(kind, field, field_types)
        kibana_type = KIBANA_FIELD_TYPES.get(es_type or "")
        if es_type is None:
            return out + [f"{operation} on {field}, which {kind} does not have"]
        if kibana_type not in allowed or es_type in NOT_AGGREGATABLE:
            out.append(f"{operation} needs an aggregatable {'/'.join(sorted(allowed))} field; {field} is {es_type}")
        expected = "number" if not column["isBucketed"] else kibana_type
        if column["dataType"] != expected:
            out.append(f"dataType {column['dataType']} for a {kibana_type} field ({operation}), expected {expected}")
    if operation == "terms":
        order_by = column["params"].get("orderBy", {})
        if order_by.get("type") == "column":
            target = columns.get(order_by.get("columnId"))
            if target is None or target["isBucketed"]:
                out.append(f"terms ordered by {order_by.get('columnId')}, which is no metric column")
        histograms = [c for c in order if columns.get(c, {}).get("operationType") == "date_histogram"]
        this = next(c for c, col in columns.items() if col is column)
        if histograms and order.index(this) > order.index(histograms[0]):
            # Lens nests the later bucket inside the earlier: top N per interval, not overall
            out.append("terms after the date histogram picks its top values per interval, not over the range")
    return out


def _dashboard(obj, kinds, field_types) -> list[str]:
    panels, out = json.loads(obj["attributes"]["panelsJSON"]), []
    refs = _reference_names(obj)
    seen: set[str] = set()
    boxes: list[tuple[str, int, int, int, int]] = []
    for panel in panels:
        pid, grid = panel.get("panelIndex"), panel["gridData"]
        if pid in seen:
            out.append(f"panelIndex {pid} is used twice")
        seen.add(pid)
        if grid.get("i") != pid:
            out.append(f"panel {pid}: gridData.i {grid.get('i')!r} is not its panelIndex")
        x, y, w, h = grid["x"], grid["y"], grid["w"], grid["h"]
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
            out.append(f"panel {pid}: x={x} w={w} y={y} h={h} leaves the {GRID_COLUMNS}-column grid")
        for other, ox, oy, ow, oh in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                out.append(f"panels {other} and {pid} overlap")
        boxes.append((pid, x, y, w, h))
        ref = refs.get(f"{pid}:{panel.get('panelRefName')}")
        if ref is None:
            out.append(f"panel {pid}: no reference named {pid}:{panel.get('panelRefName')}")
        elif ref["type"] != panel["type"]:
            out.append(f"panel {pid}: its reference is a {ref['type']}, the panel a {panel['type']}")
    return out


_CHECKS = {"index-pattern": _data_view, "search": _search, "lens": _lens, "dashboard": _dashboard}
