"""Shillelagh's generic JSON adapter (``GenericJSONAPI``) over the jobs as one JSON document.

Usage: python -m benchmarks.shillelagh_scan URL

Its HTTP cache (requests-cache, SQLite in the working directory) is turned off
(``cache_expiration=-1``) and the process runs in a fresh temporary directory, so no run
reads what an earlier run stored.
"""

from __future__ import annotations

import os
import sys
import tempfile

from shillelagh.backends.apsw.db import connect


def main(url: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        connection = connect(
            ":memory:",
            adapters=["genericjsonapi"],
            adapter_kwargs={"genericjsonapi": {"cache_expiration": -1}},
        )
        cursor = connection.cursor()
        cursor.execute(f'SELECT count(*), sum(total_datasources) FROM "{url}"')
        row = cursor.fetchone()
        assert row is not None
        count, total = row
        connection.close()
    print(count, total)


if __name__ == "__main__":
    main(sys.argv[1])
