"""Load every provider, service and resource of a StackQL registry and plan a SELECT of each
resource, to find what the loader does not support yet. Not part of the test suite.

Usage: python scripts/sweep_stackql_registry.py DIR [--provider NAME ...] [--jobs N]

DIR is a registry directory in StackQL's layout (``DIR/src/<provider>/<version>/``), a local
copy of stackql/stackql-provider-registry's ``providers`` for instance (from a git copy:
``git -C REPO archive HEAD providers/src | tar -x -C /tmp``; a partial copy that lacks some
large blobs must be extracted file by file, and its missing service documents are then
counted as services that failed). Each resource is
planned as ``SELECT * FROM provider.service.resource`` with the required params of its first
SELECT method bound to sample values (nothing is sent). Prints counts: providers, services
and resources loaded, resources planned, and failures by reason.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLES = {"integer": "1", "number": "1.5", "boolean": "true"}


@dataclass
class Tally:
    """What one provider's sweep found."""

    provider: str
    loaded: bool = False
    services: int = 0
    services_failed: int = 0
    resources: int = 0
    planned: int = 0
    no_select: int = 0
    methods: int = 0
    methods_unsupported: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    method_reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def reason(message: str) -> str:
    """A failure message without its file, key path and names: what kind of failure it is."""
    text = re.sub(r"\S+\.ya?ml: ", "", message)
    match = re.search(r"(?:^|: )([^:]*?) is not supported yet", text)
    if match:
        what = re.sub(r"'[^']*'", "'...'", match.group(1))
        return f"not supported: {what}"
    text = re.sub(r"'[^']*'", "'...'", text)
    text = re.sub(r"\b[\w.]+\.[\w.]+\.[\w.]+\b", "<table>", text)
    return text[:140]


def sample(resource: Any, param: Any) -> str:
    """A value of the param's type (a date where the column of its name is a time)."""
    column = resource.column(param.name)
    if column is not None and column.type in ("timestamp", "date"):
        return "'2025-01-01'"
    if column is not None and column.type in ("integer", "uint64"):
        return "1"
    if param.enum:
        return repr(str(param.enum[0]))
    return SAMPLES.get(param.type, "'x'")


def sweep(registry: str, name: str) -> Tally:
    """Load and plan every resource of one provider (run in a worker process)."""
    from sqlprovider.errors import Error
    from sqlprovider.model import SqlVerb
    from sqlprovider.session import Session

    tally = Tally(name)
    started = time.perf_counter()
    session = Session(registry=[registry], environ={})
    try:
        provider = session.registry.get(name)
    except Error as exc:
        tally.reasons[f"provider: {reason(str(exc))}"] += 1
        return tally
    tally.loaded = True
    for service in provider.services.values():
        try:
            names = list(service.resources)
        except Error as exc:
            tally.services_failed += 1
            tally.reasons[f"service: {reason(str(exc))}"] += 1
            continue
        tally.services += 1
        for resource_name in names:
            try:
                resource = service.resources[resource_name]
            except Error as exc:
                tally.reasons[f"resource: {reason(str(exc))}"] += 1
                continue
            except Exception as exc:  # a crash is what the sweep is for: count it, go on
                tally.reasons[f"CRASH: {type(exc).__name__}: {exc}"[:140]] += 1
                continue
            tally.resources += 1
            for method in resource.methods:
                tally.methods += 1
                if method.unsupported:
                    tally.methods_unsupported += 1
                    tally.method_reasons[reason(method.unsupported)] += 1
            selects = resource.methods_for(SqlVerb.SELECT)
            if not selects:
                unusable = resource.unsupported_reason(SqlVerb.SELECT)
                if unusable:
                    tally.reasons[f"select: {reason(unusable)}"] += 1
                else:
                    tally.no_select += 1
                continue
            if any(p.type in ("array", "object") for p in selects[0].required_params):
                tally.reasons["plan: a required array or object param (WHERE gives none)"] += 1
                continue
            required = selects[0].required_params
            conditions = [f'"{p.name}" = {sample(resource, p)}' for p in required]
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            sql = f'SELECT * FROM "{provider.name}"."{service.name}"."{resource.name}"{where}'
            try:
                session.plans(sql)
                tally.planned += 1
            except Error as exc:
                tally.reasons[f"plan: {type(exc).__name__}: {reason(str(exc))}"] += 1
            except Exception as exc:
                tally.reasons[f"CRASH in planning: {type(exc).__name__}: {exc}"[:140]] += 1
    session.close()
    tally.seconds = time.perf_counter() - started
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", help="a registry directory (DIR/src/<provider>/<version>/)")
    parser.add_argument("--provider", action="append", default=[], help="only these")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    from sqlprovider.providers.stackql import scan

    names = sorted(scan(Path(args.registry)))
    if args.provider:
        names = [n for n in names if n in args.provider]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        tallies = list(pool.map(sweep, [args.registry] * len(names), names))
    report(tallies, time.perf_counter() - started)
    return 0


def report(tallies: list[Tally], seconds: float) -> None:
    print(
        f"{'provider':24} {'svc':>5} {'svc!':>5} {'res':>6} {'planned':>7} {'nosel':>6} "
        f"{'meth':>6} {'meth!':>6} {'sec':>6}"
    )
    for t in tallies:
        print(
            f"{t.provider:24} {t.services:5} {t.services_failed:5} {t.resources:6} "
            f"{t.planned:7} {t.no_select:6} {t.methods:6} {t.methods_unsupported:6} "
            f"{t.seconds:6.1f}"
        )
    total = Tally("total")
    for t in tallies:
        total.services += t.services
        total.services_failed += t.services_failed
        total.resources += t.resources
        total.planned += t.planned
        total.no_select += t.no_select
        total.methods += t.methods
        total.methods_unsupported += t.methods_unsupported
        total.reasons.update(t.reasons)
        total.method_reasons.update(t.method_reasons)
    loaded = sum(t.loaded for t in tallies)
    print()
    print(f"providers: {len(tallies)} found, {loaded} loaded")
    print(f"services: {total.services} read, {total.services_failed} failed")
    print(
        f"resources: {total.resources} loaded, {total.planned} planned (SELECT), "
        f"{total.no_select} without a SELECT method, "
        f"{sum(total.reasons.values())} failed"
    )
    print(f"methods: {total.methods}, {total.methods_unsupported} unusable")
    print(f"time: {seconds:.0f} s")
    print("\nfailures by reason:")
    for text, count in total.reasons.most_common():
        print(f"  {count:6}  {text}")
    print("\nunusable methods by reason:")
    for text, count in total.method_reasons.most_common(40):
        print(f"  {count:6}  {text}")


if __name__ == "__main__":
    sys.exit(main())
