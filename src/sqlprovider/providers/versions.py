"""The order of provider versions: one rule for the loader and for ``registry pull``.

Versions are read as semantic versions with an optional ``v`` (``v24.11.00`` is 24.11.0;
missing parts are 0); a pre-release sorts before its release, its dot-separated parts
compared as numbers when they are digits, else as text (``rc.2`` before ``rc.10``); names
that are no version at all (``latest``) sort before every version, by text. The newest
*release* is the one used when the user names none: a pre-release only when it is pinned, or
when no release exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_SEMVER = re.compile(
    r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?\Z"
)


def version_key(version: str) -> tuple[Any, ...]:
    """A sort key putting ``version`` in semantic-version order (see the module's rule)."""
    match = _SEMVER.match(version)
    if match is None:
        return (0, (), 0, (), version)
    numbers = tuple(int(part or 0) for part in match.groups()[:3])
    pre = match.group(4)
    if pre is None:
        return (1, numbers, 1, (), version)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (1, numbers, 0, parts, version)


def is_release(version: str) -> bool:
    """Whether ``version`` is a release: a version with no ``-pre-release`` part."""
    match = _SEMVER.match(version)
    return match is not None and match.group(4) is None


def newest(versions: Sequence[str]) -> str:
    """The newest release of ``versions``; the newest of all when none is a release.

    Raises:
        ValueError: for no versions at all.
    """
    if not versions:
        raise ValueError("no versions")
    releases = [v for v in versions if is_release(v)]
    return max(releases or versions, key=version_key)
