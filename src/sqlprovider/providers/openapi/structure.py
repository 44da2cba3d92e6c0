"""The shape an OpenAPI 3 document must have for the importer to read it: the types of the
parts it reads (paths, operations, parameters, bodies, responses, schemas, servers, security),
checked with JSON Schema before anything else, so that a malformed spec is one error naming
the place instead of a crash. Everything else may be anything; unknown keys are allowed."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_OBJECT = {"type": "object"}
_SCHEMA = {"$ref": "#/$defs/schema"}
_SCHEMAS = {"type": "array", "items": _SCHEMA}
_MEDIA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "schema": _SCHEMA,
            "examples": {"type": "object", "additionalProperties": _OBJECT},
        },
    },
}
_OPERATION = {
    "type": "object",
    "properties": {
        "operationId": _TEXT,
        "tags": {"type": "array", "items": _TEXT},
        "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
        "requestBody": {"$ref": "#/$defs/body"},
        "responses": {"type": "object", "additionalProperties": {"$ref": "#/$defs/response"}},
        "security": {"type": "array", "items": _OBJECT},
    },
}

STRUCTURE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "schema": {
            "type": ["object", "boolean"],
            "properties": {
                "$ref": _TEXT,
                "type": {"type": ["string", "array"], "items": _TEXT},
                "properties": {"type": "object", "additionalProperties": _SCHEMA},
                "items": _SCHEMA,
                "allOf": _SCHEMAS,
                "oneOf": _SCHEMAS,
                "anyOf": _SCHEMAS,
                "if": _SCHEMA,
                "then": _SCHEMA,
                "enum": {"type": "array"},
                "required": {"type": ["array", "boolean"]},
            },
        },
        "parameter": {
            "type": "object",
            "properties": {"$ref": _TEXT, "name": _TEXT, "in": _TEXT, "schema": _SCHEMA},
        },
        "body": {"type": "object", "properties": {"$ref": _TEXT, "content": _MEDIA}},
        "response": {
            "type": "object",
            "properties": {"$ref": _TEXT, "content": _MEDIA, "headers": _OBJECT},
        },
        "path": {
            "type": "object",
            "properties": {
                "$ref": _TEXT,
                "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
                **{
                    verb: _OPERATION
                    for verb in ("get", "put", "post", "delete", "options", "head", "patch")
                },
                "trace": _OPERATION,
            },
        },
    },
    "type": "object",
    "properties": {
        "info": _OBJECT,
        "paths": {"type": "object", "additionalProperties": {"$ref": "#/$defs/path"}},
        "servers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "url": _TEXT,
                    "variables": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {"enum": {"type": "array"}},
                        },
                    },
                },
            },
        },
        "security": {"type": "array", "items": _OBJECT},
        "components": {
            "type": "object",
            "properties": {
                "schemas": {"type": "object", "additionalProperties": _SCHEMA},
                "parameters": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/parameter"},
                },
                "responses": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/response"},
                },
                "requestBodies": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/body"},
                },
                "securitySchemes": {"type": "object", "additionalProperties": _OBJECT},
            },
        },
    },
}


def structure_problem(document: Any) -> str | None:
    """Where and how ``document`` does not have the shape the importer reads, if it does not:
    ``paths./jobs.get.parameters[0]: 'page' is not of type 'object'``."""
    import jsonschema  # imported here: only an import needs it

    validator = jsonschema.Draft202012Validator(STRUCTURE)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    where = ""
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return f"{where or '(top level)'}: {error.message}"
