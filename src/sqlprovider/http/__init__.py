"""Talking to APIs: requests from bindings, auth, retries, pagination. Built on httpx."""

from __future__ import annotations

from sqlprovider.http.auth import Credentials, resolve_credentials
from sqlprovider.http.client import ApiClient
from sqlprovider.http.pagination import (
    Page,
    iterate_pages,
    page_request,
    sized_request,
    total_pages,
)
from sqlprovider.http.reply import Reply
from sqlprovider.http.request import (
    RequestSpec,
    base_url_for,
    build_request,
    server_url,
    split_window,
)
from sqlprovider.secret import Secret

__all__ = [
    "ApiClient",
    "Credentials",
    "Page",
    "Reply",
    "RequestSpec",
    "Secret",
    "base_url_for",
    "build_request",
    "iterate_pages",
    "page_request",
    "resolve_credentials",
    "server_url",
    "sized_request",
    "split_window",
    "total_pages",
]
