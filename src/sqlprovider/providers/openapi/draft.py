"""The provider an import is building: plain, mutable records, each with the notes (comments)
the writer puts above it.

A note is a sentence for the person who edits the result: ``guessed: ...`` where the importer
chose from names or prose, ``TODO: ...`` where the spec holds something a provider cannot say
(yet) or the importer could not decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DraftColumn:
    name: str
    type: str
    path: str | None = None  # when the field is not the column's own name
    description: str = ""
    notes: list[str] = field(default_factory=list)

    def as_yaml(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": self.type}
        if self.path is not None and self.path != self.name:
            found["path"] = self.path
        if self.description:
            found["description"] = self.description
        return found


@dataclass
class DraftParam:
    name: str
    location: str  # path, query, header, body
    wire_name: str
    type: str = "string"
    required: bool = False
    enum: list[Any] | None = None
    default: Any = None
    filtering: str | None = None  # None: the loader's default (exact)
    column: str | None = None
    env: list[str] = field(default_factory=list)
    description: str = ""
    notes: list[str] = field(default_factory=list)
    # what the spec says that the provider does not keep, for recognising patterns
    minimum: int | float | None = None
    maximum: int | None = None
    schema_default: Any = None
    full_description: str = ""

    def as_yaml(self) -> dict[str, Any]:
        found: dict[str, Any] = {"in": self.location}
        if self.wire_name != self.name:
            found["wire_name"] = self.wire_name
        if self.type != "string":
            found["type"] = self.type
        if self.required and self.location != "path":
            found["required"] = True
        if self.default is not None:
            found["default"] = self.default
        if self.enum:
            found["enum"] = self.enum
        if self.env:
            found["env"] = self.env
        if self.filtering:
            found["filtering"] = self.filtering
        if self.column:
            found["column"] = self.column
        if self.description:
            found["description"] = self.description
        return found


@dataclass
class DraftMethod:
    name: str
    sql_verb: str
    http_verb: str
    path: str
    operation: str  # how the notes name it: "GET /v2/jobs (list_jobs)"
    records: str | None = None
    id_field: str | None = None
    empty_on: list[int] = field(default_factory=list)
    max_rows: int | None = None
    pagination: dict[str, Any] | None = None
    window: dict[str, Any] | None = None
    requires: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    params: list[DraftParam] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what the importer learnt about the response, for choosing resources and columns
    record_schema: dict[str, Any] | None = None
    record_ref: str | None = None
    is_list: bool = False

    def param(self, name: str) -> DraftParam | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass
class DraftResource:
    name: str
    stem: str  # the collection path the resource was found at
    methods: list[DraftMethod] = field(default_factory=list)
    columns: list[DraftColumn] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    description: str = ""
    notes: list[str] = field(default_factory=list)
    parent: str | None = None  # the object the stem nests under (for telling names apart)

    def column(self, name: str) -> DraftColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def record_ref(self) -> str | None:
        """The schema of the rows (a ``$ref``), for merging paths that list the same thing."""
        reads = [m for m in self.methods if m.sql_verb == "select"]
        return next((m.record_ref for m in reads + self.methods if m.record_ref), None)


@dataclass
class DraftService:
    name: str
    resources: dict[str, DraftResource] = field(default_factory=dict)
    description: str = ""


@dataclass
class DraftProvider:
    name: str
    title: str
    description: str
    server: dict[str, Any]
    auth: dict[str, Any]
    services: dict[str, DraftService] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # at the top of the file
    server_notes: list[str] = field(default_factory=list)
    auth_notes: list[str] = field(default_factory=list)
