"""OpenAPI schemas of a StackQL document as columns and param types.

A schema is followed through ``$ref`` (``components/schemas|parameters|responses|
requestBodies``); ``allOf`` merges its parts, ``oneOf`` and ``anyOf`` give the union of their
columns (a field any alternative has is a column, NULL where a record lacks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.model import Column
from sqlprovider.providers.stackql.documents import Document

STRING_ONLY = "x-stackQL-stringOnly"
# Nesting deeper than this is a schema that refers to itself; its inside is read as JSON.
_MAX_DEPTH = 40


@dataclass
class Shape:
    """A schema with its ``$ref``\\ s followed and its ``allOf`` / ``oneOf`` / ``anyOf``
    merged: what columns and params are made from.

    Attributes:
        types: the JSON types it may have (``object``, ``array``, ``string``, ...); empty
            when the schema does not say.
        properties: field → its (unresolved) schema.
        required: the fields an object must have.
        items: the schema of an array's elements.
        format: ``date-time``, ``int64``, ...
        description: the schema's own description.
        string_only: ``x-stackQL-stringOnly``: sent and read as text whatever its type.
        enum: the values it allows.
    """

    types: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    items: Any = None
    format: str = ""
    description: str = ""
    string_only: bool = False
    enum: list[Any] | None = None


def shape_of(doc: Document, schema: Any, where: str = "", depth: int = 0) -> Shape:
    """The merged shape of ``schema`` (a ``$ref`` or an inline schema)."""
    shape = Shape()
    _merge(doc, schema, shape, where, depth, set())
    return shape


def _merge(
    doc: Document, schema: Any, shape: Shape, where: str, depth: int, seen: set[str]
) -> None:
    if depth > _MAX_DEPTH:
        return
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str):
        if ref in seen:
            return  # a schema that contains itself: its fields are already here
        seen = {*seen, ref}
    schema = doc.resolve(schema, where)
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    for name in kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []:
        if name != "null" and name not in shape.types:
            shape.types.append(name)
    if isinstance(schema.get("properties"), dict):
        for name, value in schema["properties"].items():
            shape.properties.setdefault(str(name), value)
    if isinstance(schema.get("required"), list):
        shape.required.extend(str(r) for r in schema["required"] if r not in shape.required)
    if shape.items is None and "items" in schema:
        shape.items = schema["items"]
    shape.format = shape.format or str(schema.get("format") or "")
    shape.description = shape.description or str(schema.get("description") or "")
    shape.string_only = shape.string_only or schema.get(STRING_ONLY) is True
    if shape.enum is None and isinstance(schema.get("enum"), list):
        shape.enum = list(schema["enum"])
    for part in schema.get("allOf") or ():
        _merge(doc, part, shape, where, depth + 1, seen)
    alternatives = [*(schema.get("oneOf") or ()), *(schema.get("anyOf") or ())]
    for part in alternatives:
        other = Shape()
        _merge(doc, part, other, where, depth + 1, seen)
        for name in other.types:
            if name not in shape.types:
                shape.types.append(name)
        for name, value in other.properties.items():
            shape.properties.setdefault(name, value)
        if shape.items is None:
            shape.items = other.items
    if alternatives and len(shape.types) > 1:
        shape.format = ""  # a value of one of several types: its format says little


def column_type(shape: Shape) -> str:
    """The column type a value of ``shape`` is loaded as: integers (also int64 counters
    sent as text), numbers, booleans, times and dates keep their type; objects, arrays and
    values of several types are JSON; the rest is text."""
    if shape.string_only:
        return "string"
    types = [t for t in shape.types if t != "null"]
    if not types:  # an untyped schema may hold anything: JSON keeps it whole
        return "string" if shape.enum or shape.format else "json"
    if len(types) > 1:
        return "json"
    kind = types[0]
    if kind == "integer":
        return "uint64" if shape.format == "uint64" else "integer"
    if kind == "number":
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "string":
        return _string_type(shape.format)
    return "json"


def _string_type(fmt: str) -> str:
    if fmt == "date-time":
        return "timestamp"
    if fmt == "date":
        return "date"
    if fmt in ("int64", "int32", "integer"):
        return "integer"  # a counter sent as text ("12345") is still a number
    if fmt == "uint64":
        return "uint64"
    return "string"


def param_type(shape: Shape) -> str:
    """The param type a value of ``shape`` is sent as (``x-stackQL-stringOnly``: text)."""
    if shape.string_only:
        return "string"
    types = [t for t in shape.types if t != "null"]
    if len(types) == 1 and types[0] in ("integer", "number", "boolean", "array", "object"):
        return types[0]
    if not types and shape.properties:
        return "object"
    return "string"


def columns_of(doc: Document, record: Shape, where: str) -> list[Column]:
    """The columns of records of shape ``record``: one per field, in the schema's order
    (names unique whatever their case, as DuckDB's are)."""
    columns: list[Column] = []
    taken: set[str] = set()
    for key, schema in record.properties.items():
        shape = shape_of(doc, schema, f"{where}.properties.{key}", 1)
        name = key
        number = 2
        while name.lower() in taken:
            name = f"{key}_{number}"
            number += 1
        taken.add(name.lower())
        columns.append(
            Column(
                name=name,
                type=column_type(shape),
                path=(key,),
                description=_one_line(shape.description),
            )
        )
    return columns


def descend(doc: Document, shape: Shape, keys: list[str], where: str) -> Shape | None:
    """The shape at the end of a records path (``*`` steps into array elements; an array
    met before a key is stepped into as well), or None when the schema lacks it."""
    for key in keys:
        if key == "*":
            if shape.items is None:
                return None
            shape = shape_of(doc, shape.items, where)
            continue
        if "array" in shape.types and shape.items is not None and key not in shape.properties:
            shape = shape_of(doc, shape.items, where)
        if key not in shape.properties:
            return None
        shape = shape_of(doc, shape.properties[key], where)
    return shape


def record_shape(doc: Document, shape: Shape, where: str) -> Shape:
    """The shape of one record where the records path leads to ``shape``: its elements
    when it is an array."""
    if ("array" in shape.types or not shape.types) and shape.items is not None:
        return shape_of(doc, shape.items, where)
    return shape


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rsplit(" ", 1)[0] + "..."


def first_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (documents are not always tidy)."""
    return value if isinstance(value, Mapping) else {}
