"""The JSON Schema every provider definition is validated against before it is built."""

from __future__ import annotations

from typing import Any

_NAME = {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}
_PATH = {"type": "string", "pattern": r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$"}
_SEGMENT = r"[A-Za-z0-9_\-]+"
# Records may step into every element of a list with *; columns may read the enclosing
# elements' fields with one ^ per level up.
_RECORDS = {"type": "string", "pattern": rf"^(\*|{_SEGMENT})(\.(\*|{_SEGMENT}))*$"}
_COLUMN_PATH = {"type": "string", "pattern": rf"^\^*{_SEGMENT}(\.{_SEGMENT})*$"}
_EXTENSIONS: dict[str, Any] = {"^x-": {}}
_NAMES = {"type": "array", "items": {"type": "string"}, "minItems": 1}

PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["in"],
    "properties": {
        "in": {"enum": ["path", "query", "header", "body", "server"]},
        "wire_name": {"type": "string", "minLength": 1},
        "type": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
        "required": {"type": "boolean"},
        "default": {},
        "enum": {"type": "array", "minItems": 1},
        "filtering": {"enum": ["exact", "loose", "none"]},
        "description": {"type": "string"},
        "env": _NAMES,
        "many": {"type": "boolean"},
        "column": _NAME,
        "operators": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["=", ">", ">=", "<", "<=", "contains", "icontains"]},
        },
        "widen": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?[smhd]$"},
        "operator_param": _NAME,
        "operator_values": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "dependentRequired": {"operators": ["column"], "widen": ["operators"]},
}

COLUMN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "type": {
            "enum": [
                "string",
                "integer",
                "uint64",
                "number",
                "boolean",
                "timestamp",
                "date",
                "json",
                "array",
                "object",
                "string[]",
                "integer[]",
            ]
        },
        "path": _COLUMN_PATH,
        "description": {"type": "string"},
    },
}

PAGINATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"enum": ["none", "next_url", "page_number", "token", "link_header", "offset"]},
        "next_url": _PATH,
        "page_param": {"type": "string"},
        "first_page": {"type": "integer"},
        "total_pages": _PATH,
        "size_param": {"type": "string"},
        "page_size": {"type": "integer", "minimum": 1},
        "max_page_size": {"type": "integer", "minimum": 1},
        "token": _PATH,
        "token_header": {"type": "string"},
        "token_param": {"type": "string"},
        "offset_param": {"type": "string"},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "next_url"}}},
            "then": {"required": ["next_url"]},
        },
        {
            "if": {"properties": {"type": {"const": "page_number"}}},
            "then": {"required": ["page_param"]},
        },
        {
            "if": {"properties": {"type": {"const": "token"}}},
            "then": {
                "required": ["token_param"],
                "anyOf": [{"required": ["token"]}, {"required": ["token_header"]}],
            },
        },
        {
            "if": {"properties": {"type": {"const": "offset"}}},
            "then": {"required": ["offset_param", "size_param", "page_size"]},
        },
    ],
}

_CONDITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["field", "in"],
    "properties": {"field": _PATH, "in": {"type": "array", "minItems": 1}},
}

WAIT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["method", "params", "done"],
    "properties": {
        "method": {"type": "string"},
        "params": {"type": "object", "additionalProperties": _PATH, "minProperties": 1},
        "done": _CONDITION,
        "failed": _CONDITION,
        "interval": {"type": "number", "exclusiveMinimum": 0},
        "max_interval": {"type": "number", "exclusiveMinimum": 0},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
}

METHOD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "sql_verb", "http_verb", "path"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "sql_verb": {"enum": ["select", "insert", "update", "replace", "delete", "exec"]},
        "http_verb": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
        "path": {"type": "string", "pattern": "^/"},
        "records": {"anyOf": [_RECORDS, {"const": ""}]},
        "id_field": _PATH,
        "params": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": PARAM,
        },
        "pagination": PAGINATION,
        "empty_on": {"type": "array", "items": {"type": "integer", "minimum": 400}},
        "max_rows": {"type": "integer", "minimum": 1},
        "idempotent": {"type": "boolean"},
        "destructive": {"type": "boolean"},
        "wait": WAIT,
        "description": {"type": "string"},
        "body": {"type": "object"},
        "destructive_when": {"type": "object", "minProperties": 1},
        "window": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start", "end", "max_span"],
            "properties": {
                "start": _NAME,
                "end": _NAME,
                "max_span": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?[smhd]$"},
            },
        },
        "requires": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["when"],
                "anyOf": [{"required": ["params"]}, {"required": ["one_of"]}],
                "properties": {
                    "when": {"type": "object", "minProperties": 1},
                    "params": _NAMES,
                    "one_of": _NAMES,
                },
            },
        },
    },
}

RESOURCE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["columns", "methods"],
    "properties": {
        "description": {"type": "string"},
        "columns": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _NAME,
            "additionalProperties": COLUMN,
        },
        "methods": {"type": "array", "minItems": 1, "items": METHOD},
        "key": _NAMES,
    },
}

PROVIDER: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "patternProperties": _EXTENSIONS,
    "required": ["name", "server", "services"],
    "properties": {
        "name": _NAME,
        "title": {"type": "string"},
        "description": {"type": "string"},
        "server": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "pattern": "^https?://"},
                "variables": {
                    "type": "object",
                    "propertyNames": _NAME,
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "default": {"type": "string"},
                            "env": {"type": "array", "items": {"type": "string"}},
                            "description": {"type": "string"},
                        },
                    },
                },
            },
        },
        "auth": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"enum": ["none", "bearer", "api_key", "basic"]},
                "env": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "header": {"type": "string"},
                "username_env": {"type": "array", "items": {"type": "string"}},
            },
        },
        "http": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
                "errors": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "message": {
                            "anyOf": [_PATH, {"type": "array", "items": _PATH, "minItems": 1}]
                        },
                        "code": _PATH,
                        "request_id": _PATH,
                    },
                },
                "retry": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                        "base_delay": {"type": "number", "minimum": 0},
                        "max_delay": {"type": "number", "minimum": 0},
                        "statuses": {"type": "array", "items": {"type": "integer"}},
                        "remaining_header": {"type": "string"},
                        "reset_header": {"type": "string"},
                    },
                },
                "rate_limit": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["per_second"],
                    "properties": {
                        "per_second": {"type": "number", "exclusiveMinimum": 0},
                        "burst": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
        "services": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _NAME,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["resources"],
                "properties": {
                    "description": {"type": "string"},
                    "resources": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": _NAME,
                        "additionalProperties": RESOURCE,
                    },
                },
            },
        },
    },
}
