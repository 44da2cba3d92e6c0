"""DuckDB's join alone, on the same 100,000 × 100,000 rows already loaded.

Usage: python -m benchmarks.duckdb_join JOBS_JSON

Loads ``uuid, total_datasources`` of the jobs twice (tables ``a`` and ``b``, not timed), then
times only the join the engine runs. Prints the answer, then the join's seconds.
"""

from __future__ import annotations

import sys
import time

import duckdb

JOIN = (
    "SELECT count(*), sum(a.total_datasources + b.total_datasources) "
    "FROM a JOIN b ON a.uuid = b.uuid"
)


def main(path: str) -> None:
    connection = duckdb.connect()
    for name in ("a", "b"):
        connection.execute(
            f"CREATE TABLE {name} AS SELECT uuid, total_datasources FROM read_json(?, "
            "format = 'array', columns = {uuid: 'VARCHAR', total_datasources: 'BIGINT'})",
            [path],
        )
    started = time.perf_counter()
    row = connection.execute(JOIN).fetchone()
    seconds = time.perf_counter() - started
    assert row is not None
    print(row[0], row[1])
    print(f"{seconds:.6f}")


if __name__ == "__main__":
    main(sys.argv[1])
