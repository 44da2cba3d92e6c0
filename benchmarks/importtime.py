"""What a command imports beyond a floor command, read from ``python -X importtime``.

Usage: python -m benchmarks.importtime [--runs N] [--top N]

By default it compares ``python -m sqlprovider exec "SELECT 1"`` with the cold-start floor,
``python -c "import duckdb, sqlglot, httpx, yaml"``, and prints every module the first imports
and the second does not: its own import time (the median over the runs, in ms) and what
imported it. "(a function)" means code that ran after start-up imported it (a lazy import).
Bytecode is written first and kept, as an installed program runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass

ENGINE = ["-m", "sqlprovider", "exec", "SELECT 1"]
FLOOR = ["-c", "import duckdb, sqlglot, httpx, yaml"]
LAZY = "(a function)"


@dataclass(frozen=True)
class Import:
    """A module one command imports and the floor does not."""

    name: str
    self_ms: float  # its own import time, without the modules it imports
    importer: str  # the module whose import ran it, or LAZY


def trace(args: list[str], env: dict[str, str]) -> list[tuple[str, float, str]]:
    """``(module, self ms, importer)`` for each import of ``python -X importtime ARGS``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows: list[tuple[str, float, int]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, _, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((name.strip(), int(own) / 1000, depth))
    # A module's line comes after the lines of what it imports, one level deeper.
    found = []
    for i, (name, own_ms, depth) in enumerate(rows):
        importer = next((n for n, _, d in rows[i + 1 :] if d < depth), LAZY)
        found.append((name, own_ms, importer))
    return found


def beyond(
    command: list[str], floor: list[str], runs: int = 5, env: dict[str, str] | None = None
) -> list[Import]:
    """The modules ``command`` imports and ``floor`` does not, heaviest first."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for args in (command, floor):  # compile and cache bytecode once
        subprocess.run([sys.executable, *args], capture_output=True, env=env, check=True)
    times: dict[str, list[float]] = defaultdict(list)
    importers: dict[str, str] = {}
    floor_modules: set[str] = set()
    for _ in range(runs):
        for name, own_ms, importer in trace(command, env):
            times[name].append(own_ms)
            importers[name] = importer
        floor_modules.update(name for name, _, _ in trace(floor, env))
    found = [
        Import(name, statistics.median(ms), importers[name])
        for name, ms in times.items()
        if name not in floor_modules
    ]
    return sorted(found, key=lambda i: -i.self_ms)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.importtime")
    parser.add_argument("--runs", type=int, default=5, help="traces of each command (5)")
    parser.add_argument("--top", type=int, default=20, help="modules to list (20)")
    args = parser.parse_args()
    found = beyond(ENGINE, FLOOR, args.runs)
    print(
        f"python {shlex.join(ENGINE)}: {len(found)} modules beyond the floor "
        f"(python {shlex.join(FLOOR)}), {sum(i.self_ms for i in found):.1f} ms of own import "
        f"time (median of {args.runs} traces)"
    )
    for i in found[: args.top]:
        print(f"{i.self_ms:7.1f} ms  {i.name:40}  imported by {i.importer}")


if __name__ == "__main__":
    main()
