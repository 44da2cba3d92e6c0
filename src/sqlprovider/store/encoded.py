"""A final query whose rows DuckDB encodes whole, each as one BLOB, so that no value becomes
a Python object (``sqlprovider serve`` has its Postgres DataRow messages built so)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb
from sqlglot import exp

from sqlprovider.result import Result
from sqlprovider.store import DIALECT, Store, translate_error

Encode = Callable[[exp.Table, list[str], list[str]], exp.Select | None]
_ROWS = "_sp_encoded_rows"


def run_encoded(
    store: Store, sql: str, names: Mapping[str, str] | None = None, *, encode: Encode
) -> Result:
    """Run the final query of ``store`` with each row encoded by DuckDB (``Result.encoded``).

    Args:
        store: the session's store.
        sql: the final query.
        names: loaded tables → resource names, for errors.
        encode: ``encode(view, columns, types)`` gives a select of one BLOB per row of
            ``view`` (the query's rows, in order; ``columns`` made unique), or None when
            it cannot encode these types: the rows then come as ``Store.run`` gives them.
    """
    with store._lock:  # the store's own package: its lock guards the connection
        connection = store.connection
        try:
            # a result another call read only in part (fetchone) would refuse sql()
            connection.complete()
            relation = connection.sql(sql)
            if relation is None:  # a statement without rows (DDL, SET)
                return Result(columns=[], types=[], rows=[])
            columns, types = list(relation.columns), [str(t) for t in relation.types]
            if relation.type != "QUERY_RELATION":  # DuckDB ran it already (DDL, DML)
                rows = [tuple(r) for r in relation.fetchall()]
                return Result(columns=columns, types=types, rows=rows)
            connection.register(_ROWS, relation)
            try:
                # the view's names: DuckDB has made repeated ones unique (a, a_1)
                select = encode(exp.to_table(_ROWS), connection.table(_ROWS).columns, types)
                if select is None:
                    rows = [tuple(r) for r in relation.fetchall()]
                    return Result(columns=columns, types=types, rows=rows)
                blobs = connection.execute(select.sql(dialect=DIALECT)).fetchall()
            finally:
                connection.unregister(_ROWS)
        except duckdb.Error as exc:
            raise translate_error(exc, names or {}) from None
    return Result(columns=columns, types=types, rows=[], encoded=[b[0] for b in blobs])
