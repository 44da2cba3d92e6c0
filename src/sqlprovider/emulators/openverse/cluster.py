"""The emulated Elasticsearch cluster the ingestion server's tasks act on: its indices (with
the documents a reindex put in them) and aliases, as ``get_stat`` and the ES calls of
``indexer.py`` see them."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

_BASE_DOCUMENTS = {"image": 5_000_000, "audio": 900_000, "model_3d": 20_000}
_BAD_NAME = re.compile(r'[\\/*?"<>| ,#:A-Z]|^[-_+]|^\.\.?$')

# ``get_stat``: whether the name exists, whether it is an alias, and the index it points at
# (an alias) or the aliases pointing at it (an index).
Stat = tuple[bool, bool | None, str | list[str] | None]


@dataclass
class Index:
    """An Elasticsearch index; ``documents`` is what a reindex put in it."""

    name: str
    model: str
    documents: int


def valid_name(name: str) -> bool:
    """Whether Elasticsearch accepts this as an index or alias name."""
    return bool(name) and not _BAD_NAME.search(name) and len(name.encode()) <= 255


class Cluster:
    """Indices and aliases; not thread-safe (the server state's lock guards it).

    ``rng`` is the server's seeded generator: the document counts of new indices come from
    it, in turn with the task ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.indices: dict[str, Index] = {}  # name → index, in creation order
        self.aliases: dict[str, str] = {}  # alias → index name
        self._documents = dict(_BASE_DOCUMENTS)

    def aliases_of(self, index: str) -> list[str]:
        """The aliases that point at ``index``, sorted."""
        return sorted(a for a, target in self.aliases.items() if target == index)

    def stat(self, name: str) -> Stat:
        """``get_stat``: ``es.indices.get(name)``, wildcards included; a wildcard that
        matches nothing raises LookupError (upstream: IndexError, a 500)."""
        if "*" in name:
            matched = {n for n in self.indices if fnmatchcase(n, name)}
            matched |= {i for a, i in self.aliases.items() if fnmatchcase(a, name)}
            if not matched:
                raise LookupError(name)
            real = min(matched)
        elif name in self.indices:
            real = name
        elif name in self.aliases:
            real = self.aliases[name]
        else:
            return False, None, None
        is_alias = real != name
        return True, is_alias, real if is_alias else self.aliases_of(real)

    def taken(self, name: str) -> bool:
        """Whether an index or an alias has this name."""
        return name in self.indices or name in self.aliases

    def create(self, name: str, model: str, documents: int) -> None:
        """A new index."""
        self.indices[name] = Index(name, model, documents)

    def delete(self, name: str) -> None:
        """Deleting an index drops the aliases that point at it, as in Elasticsearch."""
        del self.indices[name]
        for alias in self.aliases_of(name):
            del self.aliases[alias]

    def next_documents(self, model: str) -> int:
        """The document count of the next full reindex of ``model``: a little more each time."""
        self._documents[model] = self._documents.get(model, 10_000) + self.rng.randrange(
            1_000, 50_000
        )
        return self._documents[model]
