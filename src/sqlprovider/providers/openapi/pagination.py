"""How a list pages, recognised from common patterns: a ``Link`` header, a next URL in the
body (``links.pages.next``), page/per_page params with a total pages field (``meta.pages``),
cursor tokens (``next_token``), offset/limit. What is not recognised is left as a TODO.

Also the other things a list's params say: a time range the API serves in slices (a
``created_from``/``created_to`` pair whose description speaks of a 7-day window).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlprovider.providers.openapi.draft import DraftMethod, DraftParam
from sqlprovider.providers.openapi.naming import PATH_SEGMENT, normal, words
from sqlprovider.providers.openapi.spec import Spec, is_object, raw_properties

PAGE_PARAMS = frozenset({"page", "pagenum", "pagenumber", "pageno", "pageindex"})
SIZE_PARAMS = frozenset(
    {"perpage", "pagesize", "limit", "size", "maxresults", "pagelimit", "resultsperpage"}
)
OFFSET_PARAMS = frozenset({"offset", "skip", "startindex"})
TOKEN_PARAMS = frozenset(
    {
        "nexttoken",
        "pagetoken",
        "nextpagetoken",
        "cursor",
        "pagecursor",
        "continuationtoken",
        "startingafter",
        "after",
        "marker",
    }
)
TOTAL_PAGES = frozenset({"pages", "totalpages", "pagecount", "numpages", "lastpage"})
NEXT_URLS = frozenset({"next", "nexturl", "nextlink", "nextpage", "nextpageurl", "nexthref"})
TOKENS = frozenset(
    {
        "nexttoken",
        "nextcursor",
        "cursor",
        "nextpagetoken",
        "continuationtoken",
        "endcursor",
        "nextmarker",
        "next",
    }
)
# Fields and params that say a list has more pages than the first.
_PAGING_HINTS = PAGE_PARAMS | SIZE_PARAMS | OFFSET_PARAMS | TOKEN_PARAMS | TOTAL_PAGES | TOKENS
_LINK_PARENTS = ("links", "pages", "paging", "pagination", "_links")


def _fields(
    spec: Spec, schema: Mapping[str, Any], skip: str | None, prefix: str = "", depth: int = 0
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field of a response body outside the records, as (dotted path, schema)."""
    raw = raw_properties(schema)
    for name, node in raw.items():
        if not PATH_SEGMENT.match(name) or (not prefix and name == skip):
            continue
        resolved = spec.schema(node)
        if is_object(resolved) and depth < 2:
            yield from _fields(spec, resolved, None, f"{prefix}{name}.", depth + 1)
        else:
            yield f"{prefix}{name}", resolved


def _leaf(path: str) -> str:
    return normal(path.rsplit(".", 1)[-1])


def paginate(
    spec: Spec, method: DraftMethod, body: Mapping[str, Any] | None, headers: list[str]
) -> None:
    """Set ``method.pagination`` from what its params and response say, or leave a note."""
    query = {normal(p.wire_name): p for p in method.params if p.location == "query"}

    def param(names: frozenset[str]) -> DraftParam | None:
        return next((p for key, p in query.items() if key in names), None)

    page, size = param(PAGE_PARAMS), param(SIZE_PARAMS)
    offset, token = param(OFFSET_PARAMS), param(TOKEN_PARAMS)
    skip = method.records.split(".")[0] if method.records else None
    fields = list(_fields(spec, body, skip)) if body and is_object(body) else []
    strings = [f for f, s in fields if s.get("type") in ("string", None)]
    total = next(
        (f for f, s in fields if _leaf(f) in TOTAL_PAGES and s.get("type") == "integer"), None
    )
    next_url = next(
        (
            f
            for f in strings
            if _leaf(f) in NEXT_URLS and (f.split(".")[0] in _LINK_PARENTS or _leaf(f) != "next")
        ),
        None,
    )
    token_field = next((f for f in strings if _leaf(f) in TOKENS and f != next_url), None)
    found: dict[str, Any] | None = None
    why = ""
    if any(normal(h) == "link" for h in headers):
        found, why = {"type": "link_header"}, "the response's Link header"
    elif token and (token_field or next_url):
        where = token_field or next_url
        found = {"type": "token", "token": where, "token_param": token.wire_name}
        why = f"the {token.wire_name} param and the body's {where}"
    elif page and (total or next_url):
        if total:
            found = {"type": "page_number", "page_param": page.wire_name, "total_pages": total}
            why = f"the {page.wire_name} param and the body's {total}"
        else:
            found = {"type": "next_url", "next_url": next_url}
            why = f"the body's {next_url}"
    elif page:
        found = {"type": "page_number", "page_param": page.wire_name}
        why = f"the {page.wire_name} param; pages are read until a short or empty one"
    elif next_url:
        found, why = {"type": "next_url", "next_url": next_url}, f"the body's {next_url}"
    elif offset and size:
        found = {"type": "offset", "offset_param": offset.wire_name}
        why = f"the {offset.wire_name} and {size.wire_name} params"
    if found is None:
        _unrecognised(method, fields)
        return
    method.notes.append(f"guessed: {found['type']} pagination from {why}")
    _page_details(found, page, size, method)
    for used in (page, size, offset, token):
        if used is not None:
            used.filtering = "none"
    method.pagination = found


def _page_details(
    found: dict[str, Any], page: DraftParam | None, size: DraftParam | None, method: DraftMethod
) -> None:
    """first_page, size_param, page_size and max_page_size where the params give them."""
    if (
        found["type"] == "page_number"
        and page is not None
        and 0 in (page.minimum, page.schema_default)
    ):
        found["first_page"] = 0
    if size is None or found["type"] in ("link_header", "next_url"):
        if found["type"] == "offset":
            found.pop("type")
        return
    found["size_param"] = size.wire_name
    if size.maximum:
        found["page_size"] = size.maximum
        found["max_page_size"] = size.maximum
    elif found["type"] == "offset":
        found["page_size"] = 100
        method.notes.append(
            f"guessed: page_size 100 ({size.wire_name} has no maximum in the spec; offset "
            "pagination needs one)"
        )
    else:
        method.notes.append(
            f"page_size is not set: the spec gives {size.wire_name} no maximum, so the API's "
            "default page size is used"
        )


def _unrecognised(method: DraftMethod, fields: list[tuple[str, dict[str, Any]]]) -> None:
    """A TODO where the list shows signs of pages that no pattern explains."""
    hints = [
        f"the {p.wire_name} param" for p in method.params if normal(p.wire_name) in _PAGING_HINTS
    ]
    hints += [f"the body's {f}" for f, _ in fields if _leaf(f) in _PAGING_HINTS]
    if method.records and method.records.startswith("*."):
        hints.append("a list of pages as the body")
    if not hints:
        return
    method.notes.append(
        f"TODO: pagination not recognised ({', '.join(hints)}): only the first answer is read; "
        "add a pagination block if the API pages"
    )
    for param in method.params:
        if param.type == "boolean" and "all" in words(param.wire_name):
            param.default = True
            method.notes.append(
                f"guessed: {param.name} defaults to true, to ask for every row in one answer"
            )


_SPAN = re.compile(
    r"\b(\d+)[- ](day|hour|minute)s?[- ](?:time[- ])?(?:window|range|span|period)", re.I
)
_RANGE_PAIRS = (("from", "to"), ("start", "end"), ("since", "until"), ("after", "before"))


def window(method: DraftMethod) -> None:
    """A required pair of range params (``created_from``/``created_to``) whose description
    says the API serves at most N days at once."""
    required = [p for p in method.params if p.required and p.location == "query"]
    for first in required:
        for start_word, end_word in _RANGE_PAIRS:
            if start_word not in words(first.wire_name):
                continue
            twin = first.wire_name.replace(start_word, end_word)
            second = next((p for p in required if p.wire_name == twin), None)
            if second is None:
                continue
            match = _SPAN.search(f"{first.full_description} {second.full_description}")
            if match is None:
                continue
            unit = match.group(2).lower()[0]
            method.window = {
                "start": first.name,
                "end": second.name,
                "max_span": f"{match.group(1)}{unit}",
            }
            method.notes.append(
                f"guessed: window from the description ({match.group(0)!r}): a longer range is "
                f"asked in slices of {match.group(1)} {match.group(2)}s"
            )
            return
