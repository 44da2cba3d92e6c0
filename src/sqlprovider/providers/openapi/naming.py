"""Names: snake_case SQL names from an API's spellings, words of an operation, uniqueness."""

from __future__ import annotations

import re
from collections.abc import Iterable

# What the provider schema accepts for provider, service, resource, column and param names.
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# What a column path or records step may hold (one dotted segment).
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]+$")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(text: str, fallback: str = "x") -> str:
    """``GradientAI Platform`` → ``gradientai_platform``, ``api-version`` → ``api_version``,
    ``pageSize`` → ``page_size``, ``2fa`` → ``_2fa``; ``fallback`` when nothing is left."""
    spaced = _CAMEL.sub("_", text.strip())
    name = re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
    if not name:
        return fallback
    return "_" + name if name[0].isdigit() else name


def words(text: str) -> list[str]:
    """The lower-case words of an operation id or summary (``genai_createJob`` → genai,
    create, job)."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", text).lower()) if w]


def singular(name: str) -> str:
    """A naive singular of a snake_case plural (``knowledge_bases`` → ``knowledge_base``)."""
    if name.endswith(("ss", "us", "is")):
        return name  # status, analysis, access
    for plural, single in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if name.endswith(plural) and len(name) > len(plural) + 1:
            return name[: -len(plural)] + single
    return name


def strip_id_suffix(name: str) -> str:
    """``indexing_job_uuid`` → ``indexing_job`` (the object a path param names)."""
    return re.sub(r"_(uuid|id|name|key|slug)$", "", name)


def normal(name: str) -> str:
    """A spelling-free form for matching names across conventions (``page_size``,
    ``pageSize`` and ``page-size`` → ``pagesize``)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def unique(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... whichever is not taken yet."""
    used = set(taken)
    if name not in used:
        return name
    number = 2
    while f"{name}_{number}" in used:
        number += 1
    return f"{name}_{number}"


def first_sentence(text: str | None, limit: int = 160) -> str:
    """The first sentence (or line) of a description, on one line, at most ``limit`` long."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    match = re.match(r"(.+?(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)[.!?])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    if len(sentence) > limit:
        sentence = sentence[: limit - 3].rsplit(" ", 1)[0] + "..."
    return sentence
