"""Result rows as data frames (pandas, pyarrow, polars), when those packages are installed.

Columns are typed from their DuckDB types through Arrow, so an empty result keeps its types.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from sqlprovider.errors import InterfaceError

FRAMES_HINT = "pip install 'sqlprovider[frames]'"
Row = tuple[Any, ...]


def available(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def optional(module: str, method: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InterfaceError(
            f"cursor.{method}() needs {module}, which is not installed: {FRAMES_HINT}"
        ) from None


def arrow_table(pa: ModuleType, columns: list[str], types: list[str], rows: list[Row]) -> Any:
    arrays = []
    for index, kind in enumerate(types):
        values = [row[index] for row in rows]
        arrays.append(_arrow_array(pa, kind, values))
    return pa.Table.from_arrays(arrays, names=columns)


def _arrow_array(pa: ModuleType, kind: str, values: list[Any]) -> Any:
    """One column as an Arrow array, typed from its DuckDB type when that type has a plain
    Arrow equivalent, else as Arrow infers it (STRUCT, MAP, ...)."""
    wanted = _arrow_type(pa, kind)
    if kind.upper() == "UUID":
        values = [None if v is None else str(v) for v in values]
    errors = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError)
    if wanted is not None:
        try:
            return pa.array(values, type=wanted)
        except (*errors, ValueError, OverflowError):
            pass
    try:
        return pa.array(values)
    except (*errors, ValueError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _arrow_type(pa: ModuleType, kind: str) -> Any:
    name = kind.strip().upper()
    if name.endswith("[]"):
        inner = _arrow_type(pa, name[:-2])
        return None if inner is None else pa.list_(inner)
    if name.startswith("DECIMAL(") and name.endswith(")"):
        precision, _, scale = name[8:-1].partition(",")
        try:
            return pa.decimal128(int(precision), int(scale or 0))
        except ValueError:
            return None
    simple = {
        "VARCHAR": pa.string(),
        "JSON": pa.string(),
        "UUID": pa.string(),
        "BOOLEAN": pa.bool_(),
        "TINYINT": pa.int8(),
        "SMALLINT": pa.int16(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "UTINYINT": pa.uint8(),
        "USMALLINT": pa.uint16(),
        "UINTEGER": pa.uint32(),
        "UBIGINT": pa.uint64(),
        "FLOAT": pa.float32(),
        "DOUBLE": pa.float64(),
        "DATE": pa.date32(),
        "TIME": pa.time64("us"),
        "TIMESTAMP": pa.timestamp("us"),
        "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
        "BLOB": pa.binary(),
        "INTERVAL": pa.duration("us"),
    }
    return simple.get(name)
