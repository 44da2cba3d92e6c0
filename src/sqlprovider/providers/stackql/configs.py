"""``x-stackQL-config`` and ``config``: inherited settings, pagination and auth.

A setting is looked up method → resource → service document → provider service →
provider, the first level that has it winning (StackQL's inheritance). Pagination maps onto
the generic strategies of ``PaginationKind``; providers whose documents declare none get
StackQL's default (the ``nextPageToken`` body field sent back as ``pageToken``; a ``Link``
header for ``github`` and ``okta``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlprovider.model import AuthSpec, Pagination, PaginationKind

# Auth schemes StackQL has and sqlprovider does not (yet): an auth file entry still works.
_UNSUPPORTED_AUTH = {
    "service_account": "a Google service account",
    "oauth2": "OAuth 2.0 client credentials",
    "aws_signing_v4": "AWS Signature Version 4",
    "azure_default": "Azure default credentials",
    "interactive": "interactive Google login",
}


class Unsupported(Exception):
    """Something a document declares that sqlprovider does not support yet.

    Attributes:
        where: the key path in the document.
        what: what is not supported.
    """

    def __init__(self, where: str, what: str) -> None:
        self.where = where
        self.what = what
        super().__init__(f"{where}: {what}")


@dataclass(frozen=True)
class Level:
    """One level of the inheritance chain: its config mapping and where it sits."""

    config: Mapping[str, Any]
    where: str  # key path of the config in its file
    file: str


def setting(levels: Sequence[Level], key: str) -> tuple[Any, Level] | None:
    """The first level's value of ``key`` (method first), with its level."""
    for level in levels:
        if key in level.config and level.config[key] is not None:
            return level.config[key], level
    return None


_JSONPATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\*|\d+|'[^']*'|\"[^\"]*\")\]")


def json_path(text: str, where: str) -> tuple[str, ...]:
    """A JSONPath (``$.jobs``, ``$.value[*]``, ``$[*]``, ``$.data.users.edges[*].node``,
    ``$['a.b']``) or a bare key (``jobs``, ``result_info.page``, ``@odata.nextLink``: an
    annotation is one key) as record path keys, ``*``
    for every element of a list; a trailing ``[*]`` is dropped (the list is the records).

    Raises:
        Unsupported: for filters, recursive descent and other JSONPath features.
    """
    text = text.strip()
    if text.startswith("@"):  # an OData annotation (@odata.nextLink) is one key
        return (text,)
    if not text.startswith("$"):
        return tuple(part for part in text.split(".") if part)
    rest = text[1:]
    keys: list[str] = []
    position = 0
    while position < len(rest):
        match = _JSONPATH_STEP.match(rest, position)
        if match is None or rest[position : position + 2] == "..":
            raise Unsupported(where, f"the JSONPath {text!r} (only keys and [*] are supported)")
        key, bracket = match.group(1), match.group(2)
        if bracket is None:
            keys.append(key)
        elif bracket == "*":
            keys.append("*")
        elif bracket.isdigit():
            raise Unsupported(where, f"the JSONPath {text!r} (an index into a list)")
        else:
            keys.append(bracket[1:-1])
        position = match.end()
    while keys and keys[-1] == "*":
        keys.pop()
    return tuple(keys)


def pagination(levels: Sequence[Level], provider: str) -> Pagination:
    """The pagination a method inherits, as a generic strategy.

    Raises:
        Unsupported: for token locations and algorithms that have no strategy.
    """
    found = setting(levels, "pagination")
    if found is None:
        if provider in ("github", "okta"):
            return Pagination(kind=PaginationKind.LINK_HEADER)
        return Pagination(
            kind=PaginationKind.TOKEN, token_path=("nextPageToken",), token_param="pageToken"
        )
    doc, level = found
    where = f"{level.where}.pagination"
    if not isinstance(doc, Mapping):
        raise Unsupported(where, "a pagination that is not a mapping")
    request = doc.get("requestToken") or {}
    response = doc.get("responseToken") or {}
    algorithm = str(doc.get("algorithm") or "")
    for name, token in (("requestToken", request), ("responseToken", response)):
        if token.get("algorithm") or token.get("args"):
            raise Unsupported(f"{where}.{name}", f"the token algorithm {token.get('algorithm')!r}")
    if algorithm == "page_number":
        return _page_number(doc, request, where)
    if algorithm not in ("", "odata_next_link"):
        raise Unsupported(f"{where}.algorithm", f"the pagination algorithm {algorithm!r}")
    return _token(request, response, where)


def _page_number(doc: Mapping[str, Any], request: Mapping[str, Any], where: str) -> Pagination:
    if str(request.get("location") or "query") != "query" or not request.get("key"):
        raise Unsupported(f"{where}.requestToken", "a page number sent outside the query")
    terminator = doc.get("responseTerminator") or {}
    total = json_path(str(terminator.get("key") or ""), f"{where}.responseTerminator")
    return Pagination(
        kind=PaginationKind.PAGE_NUMBER,
        page_param=str(request["key"]),
        total_pages_path=total,
    )


def _token(request: Mapping[str, Any], response: Mapping[str, Any], where: str) -> Pagination:
    out_location = str(response.get("location") or "body").lower()
    in_location = str(request.get("location") or "query").lower()
    key = str(response.get("key") or "")
    if out_location == "header":
        if key.lower() == "link":
            return Pagination(kind=PaginationKind.LINK_HEADER)
        if in_location == "request":
            return Pagination(kind=PaginationKind.NEXT_URL, token_header=key)
        return _carried(Pagination(kind=PaginationKind.TOKEN, token_header=key), request, where)
    if out_location != "body" or not key:
        raise Unsupported(f"{where}.responseToken", f"a token read from {out_location!r}")
    path = json_path(key, f"{where}.responseToken.key")
    if in_location == "request":  # the token is the next page's whole URL
        return Pagination(kind=PaginationKind.NEXT_URL, next_url_path=path)
    return _carried(Pagination(kind=PaginationKind.TOKEN, token_path=path), request, where)


def _carried(paging: Pagination, request: Mapping[str, Any], where: str) -> Pagination:
    location = str(request.get("location") or "query").lower()
    name = str(request.get("key") or "")
    if location not in ("query", "body", "header") or not name:
        raise Unsupported(f"{where}.requestToken", f"a token sent in {location!r}")
    return Pagination(
        kind=paging.kind,
        token_path=paging.token_path,
        token_header=paging.token_header,
        token_param=name,
        token_location=location,
    )


def page_size(levels: Sequence[Level]) -> tuple[str | None, int | None]:
    """``queryParamPushdown.top``: the param that takes a statement's LIMIT, and the most
    it may carry."""
    found = setting(levels, "queryParamPushdown")
    if found is None or not isinstance(found[0], Mapping):
        return None, None
    top = found[0].get("top")
    if not isinstance(top, Mapping):
        return None, None
    name = top.get("paramName") or ("$top" if top.get("dialect") == "odata" else None)
    largest = top.get("maxValue")
    return (str(name) if name else None), (int(largest) if isinstance(largest, int) else None)


def body_translation(levels: Sequence[Level]) -> tuple[str, str]:
    """``requestBodyTranslate.algorithm`` split: (``default`` | ``naive``, the parent key of
    ``naive_<Parent>`` or "")."""
    found = setting(levels, "requestBodyTranslate")
    algorithm = ""
    if found is not None and isinstance(found[0], Mapping):
        algorithm = str(found[0].get("algorithm") or "")
    if algorithm.startswith("naive"):
        return "naive", algorithm[len("naive_") :] if algorithm.startswith("naive_") else ""
    if algorithm in ("", "default"):
        return "default", ""
    level = found[1] if found else None
    raise Unsupported(
        f"{level.where if level else ''}.requestBodyTranslate.algorithm",
        f"the body translation {algorithm!r}",
    )


def auth_spec(doc: Any, file: str, where: str) -> AuthSpec:
    """``config.auth`` as an AuthSpec (a scheme sqlprovider lacks gives one that says so)."""
    if not isinstance(doc, Mapping):
        return AuthSpec()
    kind = str(doc.get("type") or "").lower()
    location = str(doc.get("location") or "header").lower()
    prefix = doc.get("valuePrefix")
    credential = _env(doc, "credentialsenvvar", "api_key_var")
    header = str(doc.get("name") or "Authorization")
    if kind in ("null_auth", "", "none"):
        return AuthSpec()
    if kind in _UNSUPPORTED_AUTH:
        return AuthSpec(unsupported=_says(file, f"{where}.type", _UNSUPPORTED_AUTH[kind]))
    if location != "header":
        return AuthSpec(unsupported=_says(file, f"{where}.location", f"a credential in {location}"))
    if kind == "bearer":
        return AuthSpec(type="bearer", env=credential)
    if kind == "basic":
        user, password = _env(doc, "username_var"), _env(doc, "password_var")
        if user and password:
            return AuthSpec(type="basic", env=password, username_env=user, prefix=prefix)
        # The variable holds base64(user:password) already: sent after the prefix.
        return AuthSpec(type="api_key", env=credential, prefix=prefix or "Basic ")
    if kind == "api_key":
        own_header = doc.get("name") is not None
        default = "" if own_header else "api_key "  # StackQL's own default for Authorization
        return AuthSpec(type="api_key", env=credential, header=header, prefix=prefix or default)
    if kind == "custom":
        also: tuple[AuthSpec, ...] = ()
        if isinstance(doc.get("successor"), Mapping):
            further = auth_spec(doc["successor"], file, f"{where}.successor")
            if further.unsupported:
                return further
            also = (further, *further.also)
        return AuthSpec(type="api_key", env=credential, header=header, prefix="", also=also)
    return AuthSpec(unsupported=_says(file, f"{where}.type", f"the auth type {kind!r}"))


def _env(doc: Mapping[str, Any], *keys: str) -> tuple[str, ...]:
    return tuple(str(doc[k]) for k in keys if doc.get(k))


def _says(file: str, where: str, what: str) -> str:
    return f"{file}: {where}: {what} is not supported yet"
