"""Reading an OpenAPI 3 document and resolving what it refers to.

``Spec.schema`` gives the plain meaning of a schema node: ``$ref`` chains followed (through
``components/schemas|parameters|requestBodies|responses`` or any other local pointer),
``allOf`` merged, ``oneOf``/``anyOf`` as the union of their alternatives' properties, and
``null`` alternatives (3.0 ``nullable``, 3.1 ``type: [x, 'null']``) dropped. It resolves one
level: the properties it returns are raw nodes, resolved in turn when they are looked at, so
recursive schemas never loop.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from sqlprovider.errors import InterfaceError
from sqlprovider.providers.openapi.structure import structure_problem

_MAX_DEPTH = 24
# HTTP verbs an OpenAPI path item may hold, in the order methods are written.
VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


def read_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document in ``path`` (YAML or JSON).

    Raises:
        InterfaceError: one line naming the file and what is wrong with it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InterfaceError(f"cannot import {path}: no such file") from None
    except IsADirectoryError:
        raise InterfaceError(f"cannot import {path}: it is a folder, not a file") from None
    except OSError as exc:
        raise InterfaceError(f"cannot import {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InterfaceError(f"cannot import {path}: not UTF-8 text (byte {exc.start})") from None
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # plain data only
            document = yaml.load(text, Loader=loader)
    except json.JSONDecodeError as exc:
        raise InterfaceError(
            f"cannot import {path}: not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise InterfaceError(f"cannot import {path}: not valid YAML ({where}{problem})") from None
    check_openapi(document, str(path))
    return plain(document)  # type: ignore[no-any-return]


def check_openapi(document: Any, source: str) -> None:
    """Raise InterfaceError unless ``document`` is an OpenAPI 3 document with paths."""
    if not isinstance(document, dict):
        raise InterfaceError(f"cannot import {source}: not an OpenAPI document (not a mapping)")
    if "swagger" in document:
        raise InterfaceError(
            f"cannot import {source}: a Swagger {document['swagger']} document; convert it to "
            "OpenAPI 3 first (for example with swagger2openapi)"
        )
    version = str(document.get("openapi", ""))
    if not version:
        raise InterfaceError(
            f"cannot import {source}: not an OpenAPI 3 document (no 'openapi: 3.x' key at the top)"
        )
    if not version.startswith("3."):
        raise InterfaceError(
            f"cannot import {source}: OpenAPI {version} is not supported (only OpenAPI 3.x)"
        )
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise InterfaceError(f"cannot import {source}: the document has no paths")
    problem = structure_problem(plain(document))
    if problem is not None:
        raise InterfaceError(f"cannot import {source}: not a valid OpenAPI 3 document at {problem}")


def plain(value: Any) -> Any:
    """``value`` with YAML's dates and times as ISO text (an unquoted ``2024-04-01`` enum value
    is a date to a YAML loader, but text to the API) and every key as text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def example_schema(value: Any) -> dict[str, Any]:
    """A schema guessed from an example value (for responses that only show an example)."""
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: example_schema(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"type": "array", "items": example_schema(value[0]) if value else {}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    return {}


def is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def names_of(value: Any) -> list[str]:
    """The names of a ``required`` list (nothing for ``required: true`` and other oddities)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def raw_properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of a schema as written (each maybe a ``$ref``)."""
    found = schema.get("properties")
    return found if isinstance(found, dict) else {}


class Spec:
    """An OpenAPI document and the problems met while reading it (each once)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.problems: list[str] = []

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def deref(self, node: Any) -> Any:
        """``node`` with its ``$ref`` chain followed; ``{}`` where it cannot be."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = str(node["$ref"])
            if ref in seen:
                self._problem(f"$ref {ref} refers to itself")
                return {}
            seen.add(ref)
            node = self._target(ref)
        return node

    def _target(self, ref: str) -> Any:
        if not ref.startswith("#"):
            self._problem(
                f"$ref {ref} points into another file: bundle the spec into one file first "
                "(for example with `redocly bundle`)"
            )
            return {}
        node: Any = self.document
        for part in ref[1:].split("/")[1:]:
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                self._problem(f"$ref {ref} points to nothing")
                return {}
        return node

    @staticmethod
    def ref_of(node: Any) -> str | None:
        """The ``$ref`` a node is, if it is one (what tells two uses of a schema apart)."""
        return str(node["$ref"]) if isinstance(node, dict) and "$ref" in node else None

    def schema(self, node: Any, within: tuple[str, ...] = ()) -> dict[str, Any]:
        """What the schema ``node`` means, as one plain mapping (see the module docstring).

        ``within`` holds the ``$ref``s being resolved already: a schema made of itself
        (``A: {allOf: [A]}``) contributes nothing the second time.
        """
        ref = self.ref_of(node)
        if ref is not None and ref in within:
            return {}
        within = (*within, ref) if ref is not None else within
        node = self.deref(node)
        if not isinstance(node, dict) or len(within) > _MAX_DEPTH:
            return {}
        result = {k: v for k, v in node.items() if k not in ("allOf", "oneOf", "anyOf")}
        kinds = result.get("type")
        if isinstance(kinds, list):  # OpenAPI 3.1: [string, 'null']
            rest = [k for k in kinds if k != "null"]
            if len(rest) == 1:
                result["type"] = rest[0]
            else:
                result.pop("type")
        for part in node.get("allOf") or ():
            _merge(result, self.schema(part, within))
        alternatives = [
            self.schema(part, within)
            for part in [*(node.get("oneOf") or ()), *(node.get("anyOf") or ())]
        ]
        alternatives = [a for a in alternatives if a.get("type") != "null"]
        if len(alternatives) == 1:
            _merge(result, alternatives[0])
        elif alternatives and all(is_object(a) for a in alternatives):
            union: dict[str, Any] = {"type": "object", "properties": {}}
            for alternative in alternatives:  # no field is required of every alternative
                for name, node in (alternative.get("properties") or {}).items():
                    union["properties"][name] = self._either(union["properties"].get(name), node)
            _merge(result, union)
        elif alternatives:
            types = {a.get("type") for a in alternatives}
            formats = {a.get("format") for a in alternatives}
            if len(types) == 1 and None not in types:
                result.setdefault("type", types.pop())
                if len(formats) == 1 and None not in formats:
                    result.setdefault("format", formats.pop())
            else:
                result["x-mixed"] = True  # a string or a list, say: kept as JSON
        return result

    def _either(self, first: Any, second: Any) -> Any:
        """A field two alternatives both have: the first's, with both enums' values."""
        if first is None:
            return second
        one, two = self.schema(first), self.schema(second)
        if isinstance(one.get("enum"), list) and isinstance(two.get("enum"), list):
            values = [*one["enum"], *(v for v in two["enum"] if v not in one["enum"])]
            return {**one, "enum": values}
        return first

    def properties(self, schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The properties of an object schema, each resolved."""
        found = schema.get("properties")
        if not isinstance(found, dict):
            return {}
        return {str(name): self.schema(node) for name, node in found.items()}

    def items(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """The item schema of an array schema, resolved."""
        return self.schema(schema.get("items", {}))


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Merge the schema ``other`` into ``into`` (allOf): properties and required lists are
    joined, other keys set where ``into`` has none."""
    for key, value in other.items():
        if key == "properties" and isinstance(value, dict):
            into["properties"] = {**into.get("properties", {}), **value}
        elif key == "required" and isinstance(value, list):
            into["required"] = [*names_of(into.get("required")), *names_of(value)]
        else:
            into.setdefault(key, value)
