"""The Postgres catalog clients read (``pg_catalog``, ``information_schema``), built once per
server in a DuckDB database of its own from the providers' resources.

Each provider is a schema and each resource a table named ``service_resource`` (see
``names``); its columns are the resource's, typed as Postgres types. The catalog tables live
in DuckDB schemas ``pgc`` (pg_catalog) and ``pgis`` (information_schema), the functions
psql and drivers call are macros in ``pgc``, and ``rewrite`` points a client's catalog
query at them. DuckDB then runs the query itself: joins, subqueries and ``ANY(ARRAY[...])``
work as they do in Postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlprovider.model import Resource, param_columns
from sqlprovider.pgserver import pgtypes
from sqlprovider.pgserver.names import mapped_table
from sqlprovider.providers import Registry

OWNER_OID = 10
OWNER = "sqlprovider"
DATABASE = "sqlprovider"
PG_CATALOG_OID, PUBLIC_OID, INFORMATION_SCHEMA_OID = 11, 2200, 13000
PG_CLASS_OID = 1259  # pg_description.classoid of tables and columns
_FIRST_OID = 16384  # where Postgres starts user objects

# Tables clients read that DuckDB has a view for: ours copy its columns, then add these.
_FROM_DUCKDB: dict[str, dict[str, str]] = {
    "pg_namespace": {},
    "pg_class": {"relforcerowsecurity": "BOOLEAN"},
    "pg_attribute": {},
    "pg_type": {},
    "pg_description": {},
    "pg_index": {"indnullsnotdistinct": "BOOLEAN"},
    "pg_constraint": {"conparentid": "BIGINT"},
    "pg_attrdef": {},
    "pg_am": {},
    "pg_collation": {"collnamespace": "BIGINT", "collprovider": "VARCHAR"},
    "pg_tablespace": {},
    "pg_enum": {},
    "pg_proc": {},
    "pg_depend": {},
    "pg_sequence": {},
}
# Tables DuckDB has no view for; always empty here (no inheritance, triggers, rules, ...).
_EMPTY: dict[str, str] = {
    "pg_inherits": "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN",
    "pg_trigger": "oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, "
    "tgfoid BIGINT, tgtype INTEGER, tgenabled VARCHAR, tgisinternal BOOLEAN, "
    "tgconstrrelid BIGINT, tgconstrindid BIGINT, tgconstraint BIGINT, tgdeferrable BOOLEAN, "
    "tginitdeferred BOOLEAN, tgnargs INTEGER, tgattr VARCHAR, tgargs VARCHAR, tgqual VARCHAR",
    "pg_rewrite": "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, "
    "ev_enabled VARCHAR, is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR",
    "pg_policy": "oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, "
    "polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR",
    "pg_statistic_ext": "oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, "
    "stxowner BIGINT, stxstattarget INTEGER, stxkeys INTEGER[], stxkind VARCHAR[]",
    "pg_partitioned_table": "partrelid BIGINT, partstrat VARCHAR, partnatts INTEGER, "
    "partdefid BIGINT, partattrs INTEGER[]",
    "pg_foreign_table": "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]",
    "pg_foreign_server": "oid BIGINT, srvname VARCHAR, srvowner BIGINT, srvfdw BIGINT",
    "pg_foreign_data_wrapper": "oid BIGINT, fdwname VARCHAR, fdwowner BIGINT",
    "pg_publication": "oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, "
    "pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, "
    "pubviaroot BOOLEAN",
    "pg_publication_rel": "oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, "
    "prattrs INTEGER[]",
    "pg_publication_namespace": "oid BIGINT, pnpubid BIGINT, pnnspid BIGINT",
    "pg_subscription": "oid BIGINT, subname VARCHAR, subowner BIGINT",
    "pg_extension": "oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, "
    "extrelocatable BOOLEAN, extversion VARCHAR",
    "pg_event_trigger": "oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT",
    "pg_language": "oid BIGINT, lanname VARCHAR, lanowner BIGINT",
    "pg_operator": "oid BIGINT, oprname VARCHAR, oprnamespace BIGINT",
    "pg_cast": "oid BIGINT, castsource BIGINT, casttarget BIGINT",
    "pg_opclass": "oid BIGINT, opcname VARCHAR, opcnamespace BIGINT",
    "pg_aggregate": "aggfnoid BIGINT, aggkind VARCHAR",
    "pg_shdescription": "objoid BIGINT, classoid BIGINT, description VARCHAR",
    "pg_views": "schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR",
    "pg_matviews": "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, "
    "definition VARCHAR",
    "pg_indexes": "schemaname VARCHAR, tablename VARCHAR, indexname VARCHAR, "
    "tablespace VARCHAR, indexdef VARCHAR",
    "pg_stat_activity": "datid BIGINT, datname VARCHAR, pid INTEGER, usename VARCHAR, "
    "application_name VARCHAR, state VARCHAR, query VARCHAR",
    "pg_locks": "locktype VARCHAR, pid INTEGER, mode VARCHAR, granted BOOLEAN",
    # No statistics: tools LEFT JOIN them for row estimates (Metabase's table list).
    **{
        name: "relid BIGINT, schemaname VARCHAR, relname VARCHAR, seq_scan BIGINT, "
        "n_live_tup BIGINT, n_dead_tup BIGINT, last_analyze TIMESTAMPTZ"
        for name in ("pg_stat_user_tables", "pg_stat_all_tables", "pg_statio_user_tables")
    },
}
_FIXED: dict[str, str] = {
    "pg_database": "oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, "
    "datcollate VARCHAR, datctype VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN, "
    "datconnlimit INTEGER, dattablespace BIGINT, datacl VARCHAR[]",
    "pg_roles": "oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, "
    "rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, "
    "rolconnlimit INTEGER, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[]",
    "pg_user": "usename VARCHAR, usesysid BIGINT, usecreatedb BOOLEAN, usesuper BOOLEAN, "
    "userepl BOOLEAN, usebypassrls BOOLEAN, valuntil TIMESTAMPTZ, useconfig VARCHAR[]",
    "pg_settings": "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, "
    "short_desc VARCHAR, extra_desc VARCHAR, context VARCHAR, vartype VARCHAR, "
    "source VARCHAR, min_val VARCHAR, max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, "
    "reset_val VARCHAR",
}
_INFORMATION_SCHEMA = (
    "schemata",
    "tables",
    "columns",
    "views",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "character_sets",
)
_EMPTY_INFORMATION: dict[str, str] = {
    "routines": "specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR, "
    "routine_catalog VARCHAR, routine_schema VARCHAR, routine_name VARCHAR, "
    "routine_type VARCHAR, data_type VARCHAR",
    "parameters": "specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR, "
    "ordinal_position INTEGER, parameter_mode VARCHAR, parameter_name VARCHAR, "
    "data_type VARCHAR",
    "sequences": "sequence_catalog VARCHAR, sequence_schema VARCHAR, sequence_name VARCHAR, "
    "data_type VARCHAR",
    "triggers": "trigger_catalog VARCHAR, trigger_schema VARCHAR, trigger_name VARCHAR, "
    "event_object_schema VARCHAR, event_object_table VARCHAR",
    "check_constraints": "constraint_catalog VARCHAR, constraint_schema VARCHAR, "
    "constraint_name VARCHAR, check_clause VARCHAR",
    "constraint_column_usage": "table_catalog VARCHAR, table_schema VARCHAR, "
    "table_name VARCHAR, column_name VARCHAR, constraint_catalog VARCHAR, "
    "constraint_schema VARCHAR, constraint_name VARCHAR",
    "enabled_roles": "role_name VARCHAR",
}

CATALOG_TABLES = frozenset(_FROM_DUCKDB) | frozenset(_EMPTY) | frozenset(_FIXED) | {"pg_tables"}
INFORMATION_TABLES = frozenset(_INFORMATION_SCHEMA) | frozenset(_EMPTY_INFORMATION)


@dataclass(frozen=True)
class CatalogTable:
    """One provider table as the catalog lists it."""

    schema: str
    name: str
    resource: Resource


class Catalog:
    """The catalog database of one server: built on first use, then read by every client.

    Args:
        registry: the providers whose resources it lists.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._connection: Any = None
        self._lock = threading.Lock()

    def cursor(self) -> Any:
        """A DuckDB cursor on the catalog (one per client: cursors are not shared)."""
        with self._lock:
            if self._connection is None:
                self._connection = _build(self.registry)
            return self._connection.cursor()

    def close(self) -> None:
        """Close the catalog database."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def provider_tables(registry: Registry) -> list[CatalogTable]:
    """Every resource of every provider, under its mapped name; a name two resources of
    one provider would share is given to neither (the three-part names still work)."""
    tables: list[CatalogTable] = []
    for provider_name in registry.names():
        provider = registry.get(provider_name)
        named: dict[str, list[Resource]] = {}
        for resource in provider.resources():
            named.setdefault(mapped_table(resource.service, resource.name), []).append(resource)
        tables.extend(
            CatalogTable(provider_name, name, found[0])
            for name, found in named.items()
            if len(found) == 1
        )
    return tables


def _build(registry: Registry) -> Any:
    import duckdb

    connection = duckdb.connect(":memory:")
    connection.execute("CREATE SCHEMA pgc; CREATE SCHEMA pgis")
    for name, extra in _FROM_DUCKDB.items():
        _copy_shape(connection, f"pg_catalog.{name}", f"pgc.{name}")
        for column, kind in extra.items():
            connection.execute(f"ALTER TABLE pgc.{name} ADD COLUMN IF NOT EXISTS {column} {kind}")
    for name, columns in {**_EMPTY, **_FIXED}.items():
        connection.execute(f"CREATE TABLE pgc.{name} ({columns})")
    for name in _INFORMATION_SCHEMA:
        _copy_shape(connection, f"information_schema.{name}", f"pgis.{name}")
    for name, columns in _EMPTY_INFORMATION.items():
        connection.execute(f"CREATE TABLE pgis.{name} ({columns})")
    _fill(connection, provider_tables(registry))
    connection.execute(
        "CREATE VIEW pgc.pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename, "
        f"'{OWNER}' AS tableowner, NULL AS tablespace, false AS hasindexes, false AS hasrules, "
        "false AS hastriggers, false AS rowsecurity FROM pgc.pg_class c "
        "JOIN pgc.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
    )
    for statement in _macros():
        connection.execute(statement)
    # Postgres's keyword categories: unreserved, column name, type or function, reserved.
    connection.execute(
        "CREATE MACRO pgc.pg_get_keywords() AS TABLE SELECT keyword_name AS word, "
        "CASE keyword_category WHEN 'unreserved' THEN 'U' WHEN 'column_name' THEN 'C' "
        "WHEN 'type_function' THEN 'T' ELSE 'R' END AS catcode, true AS barelabel, "
        "keyword_category AS catdesc, 'can be bare label' AS baredesc FROM duckdb_keywords()"
    )
    return connection


_NULL_TYPES = ("NULL", '"NULL"')
# Columns DuckDB's views leave untyped (always NULL there) that clients read as numbers or
# flags; the rest become VARCHAR.
_UNTYPED: dict[str, str] = {
    "oid": "BIGINT", "attlen": "SMALLINT", "typrelid": "BIGINT", "typelem": "BIGINT",
    "typarray": "BIGINT", "typnotnull": "BOOLEAN", "typbasetype": "BIGINT",
    "typtypmod": "INTEGER", "typndims": "INTEGER", "typcollation": "BIGINT",
    "relminmxid": "BIGINT", "confkey": "SMALLINT[]", "proowner": "BIGINT", "prolang": "BIGINT",
}  # fmt: skip


def _copy_shape(connection: Any, source: str, target: str) -> None:
    """An empty table with the columns of DuckDB's view ``source`` (its NULL-typed columns
    as VARCHAR, so rows can be put in)."""
    shape = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    columns = ", ".join(
        f'"{name}" {_UNTYPED.get(name, "VARCHAR") if kind in _NULL_TYPES else kind}'
        for name, kind, *_ in shape
    )
    connection.execute(f"CREATE TABLE {target} ({columns})")


def _fill(connection: Any, tables: Sequence[CatalogTable]) -> None:
    schemas = sorted({t.schema for t in tables})
    schema_oids = {name: _FIRST_OID + i for i, name in enumerate(schemas)}
    namespaces = [
        (PG_CATALOG_OID, "pg_catalog"),
        (PUBLIC_OID, "public"),
        (INFORMATION_SCHEMA_OID, "information_schema"),
        *((oid, name) for name, oid in schema_oids.items()),
    ]
    _insert(connection, "pgc.pg_namespace", ("oid", "nspname", "nspowner"),
            [(oid, name, OWNER_OID) for oid, name in namespaces])  # fmt: skip
    _insert(
        connection,
        "pgis.schemata",
        ("catalog_name", "schema_name", "schema_owner"),
        [(DATABASE, name, OWNER) for _, name in namespaces],
    )
    _insert_types(connection)
    next_oid = _FIRST_OID + len(schemas)
    classes, attributes, descriptions, info_tables, info_columns = [], [], [], [], []
    for oid, table in enumerate(tables, start=next_oid):
        columns = _columns(table.resource)
        classes.append(_class_row(oid, table.name, schema_oids[table.schema], len(columns)))
        descriptions.append((oid, PG_CLASS_OID, 0, table.resource.description or None))
        info_tables.append((DATABASE, table.schema, table.name, "BASE TABLE", "YES", "NO"))
        for number, (name, oid_type, description) in enumerate(columns, start=1):
            attributes.append(_attribute_row(oid, name, oid_type, number))
            descriptions.append((oid, PG_CLASS_OID, number, description or None))
            info_columns.append(_info_column(table, name, oid_type, number))
    _insert(connection, "pgc.pg_class", _CLASS_COLUMNS, classes)
    _insert(connection, "pgc.pg_attribute", _ATTRIBUTE_COLUMNS, attributes)
    _insert(
        connection,
        "pgc.pg_description",
        ("objoid", "classoid", "objsubid", "description"),
        [row for row in descriptions if row[3] is not None],
    )
    _insert(
        connection,
        "pgis.tables",
        ("table_catalog", "table_schema", "table_name", "table_type", "is_insertable_into",
         "is_typed"),
        info_tables,
    )  # fmt: skip
    _insert(connection, "pgis.columns", _INFO_COLUMN_COLUMNS, info_columns)
    _insert_fixed(connection)


def _columns(resource: Resource) -> list[tuple[str, int, str]]:
    """The table's columns as the engine has them: the record's, then its SELECT params."""
    every = [*resource.columns, *param_columns(resource)]
    return [(c.name, pgtypes.oid_of(c.duckdb_type), c.description) for c in every]


_CLASS_COLUMNS = (
    "oid", "relname", "relnamespace", "reltype", "reloftype", "relowner", "relam",
    "relfilenode", "reltablespace", "relpages", "reltuples", "relallvisible", "reltoastrelid",
    "relhasindex", "relisshared", "relpersistence", "relkind", "relnatts", "relchecks",
    "relhasoids", "relhasrules", "relhastriggers", "relhassubclass", "relrowsecurity",
    "relforcerowsecurity", "relispopulated", "relreplident", "relispartition",
)  # fmt: skip


def _class_row(oid: int, name: str, namespace: int, columns: int) -> tuple[Any, ...]:
    return (oid, name, namespace, 0, 0, OWNER_OID, 2, 0, 0, 0, -1, 0, 0, False, False,
            "p", "r", columns, 0, False, False, False, False, False, False, True, "d",
            False)  # fmt: skip


_ATTRIBUTE_COLUMNS = (
    "attrelid", "attname", "atttypid", "attstattarget", "attlen", "attnum", "attndims",
    "atttypmod", "attbyval", "attnotnull", "atthasdef", "atthasmissing", "attidentity",
    "attgenerated", "attisdropped", "attislocal", "attinhcount", "attcollation",
)  # fmt: skip


def _attribute_row(relation: int, name: str, kind: int, number: int) -> tuple[Any, ...]:
    dims = 1 if kind in pgtypes.ARRAYS else 0
    return (relation, name, kind, -1, -1, number, dims, -1, False, False, False, False, "",
            "", False, True, 0, 0)  # fmt: skip


_INFO_COLUMN_COLUMNS = (
    "table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
    "is_nullable", "data_type", "udt_catalog", "udt_schema", "udt_name", "is_identity",
    "is_generated", "is_updatable", "COLUMN_COMMENT",
)  # fmt: skip


def _info_column(table: CatalogTable, name: str, kind: int, number: int) -> tuple[Any, ...]:
    data_type = "ARRAY" if kind in pgtypes.ARRAYS else pgtypes.type_name(kind)
    udt = "_" + pgtypes.TYPES[pgtypes.ARRAYS[kind]][0] if kind in pgtypes.ARRAYS else None
    udt = udt or (pgtypes.TYPES[kind][0] if kind in pgtypes.TYPES else "text")
    description = next((c.description for c in table.resource.columns if c.name == name), "")
    return (DATABASE, table.schema, table.name, name, number, "YES", data_type, DATABASE,
            "pg_catalog", udt, "NO", "NEVER", "NO", description or None)  # fmt: skip


def _insert_types(connection: Any) -> None:
    rows = []
    for oid, (typname, _, array) in pgtypes.TYPES.items():
        category = _CATEGORIES.get(oid, "U")
        rows.append((oid, typname, PG_CATALOG_OID, OWNER_OID, -1, False, "b", category, False,
                     True, ",", 0, 0, array, 0, False, -1, 0, 0, typname + "in"))  # fmt: skip
        rows.append((array, "_" + typname, PG_CATALOG_OID, OWNER_OID, -1, False, "b", "A",
                     False, True, ",", 0, oid, 0, 0, False, -1, 0, 0, "array_in"))  # fmt: skip
    _insert(
        connection,
        "pgc.pg_type",
        ("oid", "typname", "typnamespace", "typowner", "typlen", "typbyval", "typtype",
         "typcategory", "typispreferred", "typisdefined", "typdelim", "typrelid", "typelem",
         "typarray", "typbasetype", "typnotnull", "typtypmod", "typndims", "typcollation",
         "typinput"),
        rows,
    )  # fmt: skip


_CATEGORIES = {
    pgtypes.BOOL: "B", pgtypes.INT2: "N", pgtypes.INT4: "N", pgtypes.INT8: "N",
    pgtypes.FLOAT4: "N", pgtypes.FLOAT8: "N", pgtypes.NUMERIC: "N", pgtypes.OID: "N",
    pgtypes.TEXT: "S", pgtypes.VARCHAR: "S", pgtypes.NAME: "S", pgtypes.DATE: "D",
    pgtypes.TIME: "D", pgtypes.TIMESTAMP: "D", pgtypes.TIMESTAMPTZ: "D",
    pgtypes.INTERVAL: "T",
}  # fmt: skip


def _insert_fixed(connection: Any) -> None:
    _insert(connection, "pgc.pg_am", ("oid", "amname", "amtype"), [(2, "heap", "t")])
    _insert(
        connection,
        "pgc.pg_database",
        ("oid", "datname", "datdba", "encoding", "datcollate", "datctype", "datistemplate",
         "datallowconn", "datconnlimit", "dattablespace"),
        [(_FIRST_OID - 1, DATABASE, OWNER_OID, 6, "C", "C", False, True, -1, 1663)],
    )  # fmt: skip
    _insert(
        connection,
        "pgc.pg_roles",
        ("oid", "rolname", "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb",
         "rolcanlogin", "rolreplication", "rolconnlimit", "rolbypassrls"),
        [(OWNER_OID, OWNER, False, True, False, False, True, False, -1, False)],
    )  # fmt: skip
    _insert(
        connection,
        "pgc.pg_user",
        ("usename", "usesysid", "usecreatedb", "usesuper", "userepl", "usebypassrls"),
        [(OWNER, OWNER_OID, False, False, False, False)],
    )
    _insert(connection, "pgis.character_sets", ("character_set_name",), [("UTF8",)])


def _insert(connection: Any, table: str, columns: Iterable[str], rows: list[Any]) -> None:
    if not rows:
        return
    names = list(columns)
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    connection.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)


def _macros() -> list[str]:
    """The catalog functions clients call, as macros in ``pgc``. Ownership, privileges,
    sizes, indexes and defaults are not modelled: every object belongs to one user, every
    privilege is granted, and there is nothing to size or define."""
    names = " ".join(
        f"WHEN {oid} THEN '{pgtypes.type_name(oid)}' WHEN {array} THEN '{name}[]'"
        for oid, (_, name, array) in pgtypes.TYPES.items()
    )
    constant = {
        "pg_get_userbyid(a)": f"'{OWNER}'",
        "pg_table_is_visible(a)": "true",
        "pg_type_is_visible(a)": "true",
        "pg_function_is_visible(a)": "true",
        "pg_get_expr(a, b), (a, b, c)": "NULL::VARCHAR",
        "pg_get_indexdef(a), (a, b, c)": "NULL::VARCHAR",
        "pg_get_constraintdef(a), (a, b)": "NULL::VARCHAR",
        "pg_get_viewdef(a), (a, b)": "NULL::VARCHAR",
        "pg_get_triggerdef(a), (a, b)": "NULL::VARCHAR",
        "pg_get_partkeydef(a)": "NULL::VARCHAR",
        "pg_get_statisticsobjdef_columns(a)": "NULL::VARCHAR",
        "pg_get_serial_sequence(a, b)": "NULL::VARCHAR",
        "pg_relation_size(a)": "0::BIGINT",
        "pg_stat_get_numscans(a)": "0::BIGINT",
        "pg_total_relation_size(a)": "0::BIGINT",
        "pg_table_size(a)": "0::BIGINT",
        "pg_indexes_size(a)": "0::BIGINT",
        "pg_size_pretty(a)": "'0 bytes'",
        "pg_encoding_to_char(a)": "'UTF8'",
        "pg_is_in_recovery()": "false",
        "pg_relation_is_publishable(a)": "false",
        "array_upper(a, b)": "len(a)",
        "array_lower(a, b)": "CASE WHEN len(a) > 0 THEN 1 END",
        "pg_get_function_identity_arguments(a)": "''",
        "pg_get_function_result(a)": "NULL::VARCHAR",
        "pg_tablespace_location(a)": "''",
        "pg_get_ruledef(a), (a, b)": "NULL::VARCHAR",
        "pg_my_temp_schema()": "0::BIGINT",
        "pg_is_other_temp_schema(a)": "false",
        "txid_current()": "1::BIGINT",
        "shobj_description(a, b)": "NULL::VARCHAR",
        "has_table_privilege(a, b), (a, b, c)": "true",
        "has_schema_privilege(a, b), (a, b, c)": "true",
        "has_database_privilege(a, b), (a, b, c)": "true",
        "has_column_privilege(a, b, c), (a, b, c, d)": "true",
        "has_any_column_privilege(a, b), (a, b, c)": "true",
        "has_function_privilege(a, b), (a, b, c)": "true",
        "has_sequence_privilege(a, b), (a, b, c)": "true",
        "pg_has_role(a, b), (a, b, c)": "true",
        "quote_ident(a)": "CASE WHEN regexp_matches(a, '^[a-z_][a-z0-9_]*$') THEN a "
        "ELSE '\"' || replace(a, '\"', '\"\"') || '\"' END",
        "format_type(a, b)": f"CASE a {names} ELSE 'text' END",
        "obj_description(a), (a, b)": "(SELECT max(description) FROM pgc.pg_description d "
        "WHERE d.objoid = a AND d.objsubid = 0)",
        "col_description(a, b)": "(SELECT max(description) FROM pgc.pg_description d "
        "WHERE d.objoid = a AND d.objsubid = b)",
    }
    statements = []
    for signature, body in constant.items():
        name, _, params = signature.partition("(")
        statements.append(f"CREATE MACRO pgc.{name}" + _overloads(params, body))
    return statements


def _overloads(params: str, body: str) -> str:
    """``(a, b), (a, b, c)`` → ``(a, b) AS body, (a, b, c) AS body``."""
    shapes = [shape.strip().strip("()") for shape in ("(" + params).split("),")]
    return ", ".join(f"({shape}) AS {body}" for shape in shapes)
