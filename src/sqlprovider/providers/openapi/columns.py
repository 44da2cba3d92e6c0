"""Columns from a response record's schema, each typed as the provider format types them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlprovider.providers.openapi.draft import DraftColumn
from sqlprovider.providers.openapi.naming import PATH_SEGMENT, first_sentence, snake, unique
from sqlprovider.providers.openapi.spec import Spec, is_object

# An object field with at most this many scalar fields also gets a column per field
# (``summary.total_connectors`` → ``summary_total_connectors``), beside its JSON column;
# only in records with at most SMALL_OBJECTS such fields (more would bury the record's own).
SMALL_OBJECT = 4
SMALL_OBJECTS = 2
_SCALARS = ("string", "integer", "number", "boolean")
_STRING_FORMATS = {
    "date-time": "timestamp",
    "date": "date",
    "int64": "integer",
    "int32": "integer",
    "integer": "integer",
    "uint64": "uint64",
    "uint32": "integer",
}


def column_type(spec: Spec, schema: Mapping[str, Any]) -> str:
    """The column type of a field with this (resolved) schema."""
    kind = schema.get("type")
    if schema.get("x-mixed"):
        return "json"
    if kind is None:
        if is_object(schema):
            return "json"
        if "items" in schema:
            kind = "array"
        elif schema.get("enum"):
            kind = _enum_type(schema["enum"])
        else:
            return "json"  # any value at all
    fmt = str(schema.get("format", "")).lower()
    if kind == "string":
        return _STRING_FORMATS.get(fmt, "string")
    if kind == "integer":
        return "uint64" if fmt == "uint64" else "integer"
    if kind in ("number", "boolean"):
        return str(kind)
    if kind == "array":
        item = spec.items(schema)
        plain_text = item.get("type") == "string" and not item.get("format")
        return "string[]" if plain_text and not item.get("x-mixed") else "json"
    return "json"


def _enum_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    return "string"


def describe(schema: Mapping[str, Any]) -> str:
    """A one-line description, with the allowed values when they are few."""
    text = first_sentence(schema.get("description"))
    values = schema.get("enum")
    if isinstance(values, list) and values and not text.count("("):
        listed = ", ".join(str(v) for v in values if v is not None)
        if len(listed) <= 300:
            text = f"{text} ({listed})" if text else f"One of {listed}"
    return text


def columns_for(spec: Spec, record: Mapping[str, Any]) -> tuple[list[DraftColumn], list[str]]:
    """The columns of records with the schema ``record``, and notes on fields left out."""
    columns: list[DraftColumn] = []
    notes: list[str] = []
    fields = spec.properties(record)
    small = [n for n, s in fields.items() if _small_object(spec, s)]
    for field_name, schema in fields.items():
        if not PATH_SEGMENT.match(field_name):
            notes.append(
                f"TODO: the field {field_name!r} cannot be addressed by a column path; "
                "it is left out"
            )
            continue
        if schema.get("writeOnly"):
            continue  # never in a response
        name = unique(snake(field_name, "field"), (c.name for c in columns))
        kind = column_type(spec, schema)
        columns.append(DraftColumn(name, kind, field_name, describe(schema)))
        if field_name in small and len(small) <= SMALL_OBJECTS:
            columns.extend(_small_object_fields(spec, name, field_name, schema, columns))
    return columns, notes


def _small_object(spec: Spec, schema: Mapping[str, Any]) -> bool:
    """An object of at most SMALL_OBJECT scalar fields."""
    if not is_object(schema):
        return False
    inner = spec.properties(schema)
    return (
        0 < len(inner) <= SMALL_OBJECT
        and all(s.get("type") in _SCALARS and not s.get("x-mixed") for s in inner.values())
        and all(PATH_SEGMENT.match(n) for n in inner)
    )


def _small_object_fields(
    spec: Spec, name: str, field_name: str, schema: Mapping[str, Any], taken: list[DraftColumn]
) -> list[DraftColumn]:
    """A column per field of a small object of scalars (``summary.total_connectors``)."""
    inner = spec.properties(schema)
    found: list[DraftColumn] = []
    for sub_name, sub in inner.items():
        column = unique(f"{name}_{snake(sub_name, 'field')}", (c.name for c in [*taken, *found]))
        found.append(
            DraftColumn(column, column_type(spec, sub), f"{field_name}.{sub_name}", describe(sub))
        )
    return found
