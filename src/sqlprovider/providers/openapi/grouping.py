"""Operations → services and resources.

A collection path (``/v2/gen-ai/indexing_jobs``) and its item path (``.../{uuid}``) are one
resource, named from the collection's last segment; a literal segment after an item that is
no collection of its own (``.../{uuid}/cancel``) is an operation on that item (EXEC). Two
paths that list the same records (``/indexing_jobs`` and
``/knowledge_bases/{knowledge_base_uuid}/indexing_jobs``) are one resource with two select
methods. The service is the first path segment after version prefixes when every path has
one, else the operation's first tag, else ``api``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlprovider.providers.openapi.draft import DraftResource, DraftService
from sqlprovider.providers.openapi.naming import snake, strip_id_suffix, unique
from sqlprovider.providers.openapi.operations import Operation, build_method
from sqlprovider.providers.openapi.spec import Spec

_VERSION = re.compile(r"^(v\d+(\.\d+)*[a-z0-9]*|api|rest|\d{4}-\d{2}-\d{2})$", re.IGNORECASE)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_param(segment: str) -> bool:
    return "{" in segment


def _namespace(path: str) -> str | None:
    """The first meaningful segment, when more literal path follows it."""
    rest = _segments(path)
    while rest and _VERSION.match(rest[0]):
        rest = rest[1:]
    if len(rest) >= 2 and not _is_param(rest[0]) and not _is_param(rest[1]):
        return rest[0]
    return None


def service_names(ops: list[Operation]) -> tuple[dict[int, str], list[str]]:
    """The service of each operation (by index), and notes on how they were chosen."""
    spaces = [_namespace(op.path) for op in ops]
    if all(spaces):
        return {i: snake(str(s), "api") for i, s in enumerate(spaces)}, []
    tags = [op.node.get("tags") or [] for op in ops]
    if all(tags) and all(isinstance(t[0], str) for t in tags):
        return {i: snake(t[0], "api") for i, t in enumerate(tags)}, [
            "guessed: one service per tag (the paths share no first segment)"
        ]
    return {i: "api" for i in range(len(ops))}, [
        "guessed: one service, api (the paths share no first segment and not every operation "
        "has a tag)"
    ]


@dataclass(frozen=True)
class Place:
    """Where an operation belongs: the collection path of its resource, and how it relates
    to it."""

    stem: str
    kind: str  # collection, item or action


def _collection_paths(ops: list[Operation]) -> set[str]:
    """Literal-ending paths that are collections: listed, read or created at, or with an item
    path below them."""
    by_path: dict[str, list[Operation]] = {}
    for op in ops:
        by_path.setdefault(op.path, []).append(op)
    found: set[str] = set()
    for path, at in by_path.items():
        segments = _segments(path)
        under_item = len(segments) > 1 and _is_param(segments[-2])
        if segments and _is_param(segments[-1]):
            found.add("/" + "/".join(segments[:-1]))
        elif any(
            op.verb == "GET" or (op.verb == "POST" and (op.creates() or op.reads())) for op in at
        ):
            found.add(path)
        elif not under_item and {op.verb for op in at} <= {"DELETE"}:
            found.add(path)  # DELETE /state: the whole collection
    return found


def place(op: Operation, collections: set[str]) -> Place:
    segments = _segments(op.path)
    if not segments:
        return Place("/", "collection")
    if _is_param(segments[-1]):
        return Place("/" + "/".join(segments[:-1]), "item")
    if op.path in collections:
        return Place(op.path, "collection")
    if len(segments) > 1 and _is_param(segments[-2]):
        return Place("/" + "/".join(segments[:-2]), "action")  # .../{uuid}/cancel
    return Place(op.path, "action")  # /run-once: a resource of its own


def sql_verb(op: Operation, kind: str) -> tuple[str, str | None]:
    """The SQL verb ``op`` serves where it is, and a note when that was a guess."""
    if kind == "action":
        return "exec", f"guessed: {op.label} acts on something rather than writing rows: EXEC"
    if op.verb == "GET":
        return "select", None
    if op.verb == "POST":
        if op.reads():
            return "select", f"guessed: {op.label} only reads (by its name): a select method"
        if kind == "item":
            return "exec", f"guessed: {op.label} posts to one object: EXEC"
        return "insert", None
    verbs = {"PUT": "replace", "PATCH": "update", "DELETE": "delete"}
    return verbs.get(op.verb, "exec"), None


def _leaf(stem: str) -> str:
    literal = [s for s in _segments(stem) if not _is_param(s)]
    return snake(literal[-1], "root") if literal else "root"


def _parent(stem: str) -> str | None:
    """What a nested collection hangs from: ``indexing_job`` for
    ``/indexing_jobs/{indexing_job_uuid}/data_sources``."""
    segments = _segments(stem)
    if len(segments) >= 3 and _is_param(segments[-2]):
        return strip_id_suffix(snake(segments[-2].strip("{}"), "parent"))
    return None


def group(spec: Spec, ops: list[Operation]) -> tuple[dict[str, DraftService], list[str]]:
    """The services and resources of the operations, each method built."""
    services, notes = service_names(ops)
    collections = _collection_paths(ops)
    by_stem: dict[tuple[str, str], DraftResource] = {}
    for index, op in enumerate(ops):
        where = place(op, collections)
        if where.stem == "/" and op.node.get("summary"):
            leaf = snake(str(op.node["summary"]).split()[0], "root")
        else:
            leaf = _leaf(where.stem)
        verb, guess = sql_verb(op, where.kind)
        method = build_method(spec, op, verb, leaf, where.kind != "collection")
        if guess:
            method.notes.insert(0, guess)
        key = (services[index], where.stem)
        resource = by_stem.setdefault(
            key, DraftResource(name=leaf, stem=where.stem, parent=_parent(where.stem))
        )
        method.name = unique(method.name, (m.name for m in resource.methods))
        resource.methods.append(method)
    drafts: dict[str, DraftService] = {}
    for name in dict.fromkeys(service for service, _ in by_stem):
        members = [r for (s, _), r in by_stem.items() if s == name]
        drafts[name] = DraftService(name, {r.name: r for r in _named(_merged(members))})
    return drafts, notes


def _merged(resources: list[DraftResource]) -> list[DraftResource]:
    """Resources whose records are the same schema and whose paths are related (the same
    last segment, or one below the other) become one."""
    kept: list[DraftResource] = []
    for resource in sorted(resources, key=lambda r: (len(_segments(r.stem)), r.stem)):
        ref = resource.record_ref
        home = next(
            (
                k
                for k in kept
                if ref
                and k.record_ref == ref
                and (k.name == resource.name or resource.stem.startswith(k.stem.rstrip("/") + "/"))
            ),
            None,
        )
        if home is None:
            kept.append(resource)
            continue
        for method in resource.methods:
            method.name = unique(method.name, (m.name for m in home.methods))
            method.notes.append(
                f"guessed: in {home.name} because {resource.stem} answers the same records"
            )
            home.methods.append(method)
    return kept


def _named(resources: Iterable[DraftResource]) -> list[DraftResource]:
    """Unique names; a collection nested under another object is named after it too
    (``indexing_job_data_sources``)."""
    found = list(resources)
    taken: list[str] = []
    for resource in sorted(found, key=lambda r: r.parent is not None):
        if resource.parent and not resource.name.startswith(resource.parent + "_"):
            resource.name = f"{resource.parent}_{resource.name}"
        resource.name = unique(resource.name, taken)
        taken.append(resource.name)
    return sorted(found, key=lambda r: r.stem)
