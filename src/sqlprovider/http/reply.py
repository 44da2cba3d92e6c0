"""What the client hands back for a successful request: plain data, no httpx type.

Pagination and the executor read status, headers and body from a Reply, so only the
client (and the failures it words) know the HTTP library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field


class Headers(Mapping[str, str]):
    """Response headers, read-only, looked up without regard to case.

    A header sent more than once holds its values joined by ``", "``, as HTTP allows and
    as httpx reads it.

    Args:
        items: ``(name, value)`` pairs in the order they arrived.
    """

    __slots__ = ("_values",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        values: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            values[key] = f"{values[key]}, {value}" if key in values else value
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        # Names only: a value (a cookie, a signed link) may be a secret.
        return f"Headers({sorted(self._values)})"


@dataclass(frozen=True)
class Reply:
    """An answer the client accepted (2xx), read whole.

    Attributes:
        status: the HTTP status code.
        headers: the response headers (names in lower case, looked up in any case).
        content: the body, decoded from any content encoding.
        url: the URL that was requested, with its query string.
        next_link: the target of a ``Link: <...>; rel="next"`` header, if any.
    """

    status: int
    headers: Headers = field(repr=False)
    content: bytes = field(repr=False)
    url: str = field(repr=False)
    next_link: str | None = field(default=None, repr=False)
