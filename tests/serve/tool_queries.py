"""The catalog queries BI and database tools send when they connect and browse, written the way
each tool writes them (their quoting, casts, operators and parameter styles), for
``test_tools.py``. ``%s`` marks a parameter the tool binds server-side (psycopg sends it the
same way: Parse, Bind, Execute).

Each query is a ``ToolQuery``: its tool, what the tool asks with it, the SQL, its
parameters, and what the answer must hold (checked against the providers themselves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA = "digitalocean"
TABLE = "genai_indexing_jobs"


@dataclass(frozen=True)
class ToolQuery:
    """One query a tool sends.

    Attributes:
        tool: the tool (its driver: Metabase and DBeaver speak through pgjdbc).
        asks: what the tool wants to know with it.
        sql: the query as the tool sends it.
        params: its bound parameters.
        expect: what the answer must hold: ``tables`` (the (schema, table) pairs of the
            provider tables in the columns named), ``columns`` (the table's columns, in
            order), ``schemas`` (every provider), ``rows`` (at least one row), ``empty``
            (no rows: an object the server has none of), ``value`` (the first row's
            values equal ``value``).
        columns: for ``tables`` and ``columns``: the positions of the schema, table (or
            column name) in a row.
        value: for ``value``: the expected first row.
    """

    tool: str
    asks: str
    sql: str
    params: tuple[Any, ...] = ()
    expect: str = "rows"
    columns: tuple[int, ...] = ()
    value: tuple[Any, ...] = field(default_factory=tuple)


_PGJDBC_TABLE_TYPE = """CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema' \
WHEN true THEN CASE WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' \
THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' \
WHEN 'i' THEN 'SYSTEM INDEX' ELSE NULL END WHEN n.nspname = 'pg_toast' THEN CASE c.relkind \
WHEN 'r' THEN 'SYSTEM TOAST TABLE' WHEN 'i' THEN 'SYSTEM TOAST INDEX' ELSE NULL END \
ELSE CASE c.relkind WHEN 'r' THEN 'TEMPORARY TABLE' WHEN 'p' THEN 'TEMPORARY TABLE' \
WHEN 'i' THEN 'TEMPORARY INDEX' WHEN 'S' THEN 'TEMPORARY SEQUENCE' \
WHEN 'v' THEN 'TEMPORARY VIEW' ELSE NULL END END WHEN false THEN CASE c.relkind \
WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'i' THEN 'INDEX' \
WHEN 'P' then 'PARTITIONED INDEX' WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' \
WHEN 'c' THEN 'TYPE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' \
ELSE NULL END ELSE NULL END"""

# pgjdbc's DatabaseMetaData: what Metabase and DBeaver (and every JDBC tool) call.
PGJDBC = [
    ToolQuery("pgjdbc", "connect: settings", "SET extra_float_digits = 3", expect="none"),
    ToolQuery(
        "pgjdbc",
        "connect: its name",
        "SET application_name = 'PostgreSQL JDBC Driver'",
        expect="none",
    ),
    ToolQuery(
        "pgjdbc",
        "getSchemas",
        "SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace "
        "WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_' OR nspname = "
        "(pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_' OR nspname "
        "= replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_')) "
        "ORDER BY TABLE_SCHEM",
        expect="schemas",
    ),
    ToolQuery(
        "pgjdbc",
        "getTables",
        "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME, "
        f"{_PGJDBC_TABLE_TYPE} AS TABLE_TYPE, d.description AS REMARKS, '' as TYPE_CAT, "
        "'' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, "
        "'' AS REF_GENERATION FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c "
        "LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 "
        "and d.classoid = 'pg_class'::regclass) WHERE c.relnamespace = n.oid "
        f"AND n.nspname LIKE '{SCHEMA}' AND c.relname LIKE '%' AND (false OR ( c.relkind = "
        "'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) OR ( c.relkind "
        "= 'p' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) OR ( c.relkind "
        "= 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ) ) "
        "ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME",
        expect="tables",
        columns=(1, 2),
    ),
    ToolQuery(
        "pgjdbc",
        "getColumns",
        "SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR "
        "(t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,"
        "row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, "
        "nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,"
        "pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,"
        "t.typbasetype,t.typtype FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c "
        "ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid) "
        "JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef def "
        "ON (a.attrelid=def.adrelid AND a.attnum = def.adnum) LEFT JOIN "
        "pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) "
        "LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class') "
        "LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND "
        "dn.nspname='pg_catalog') WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 "
        f"AND NOT a.attisdropped AND n.nspname LIKE '{SCHEMA}' AND c.relname LIKE '{TABLE}') c "
        "WHERE true ORDER BY nspname,c.relname,attnum",
        expect="columns",
        columns=(1, 2),
    ),
    ToolQuery(
        "pgjdbc",
        "getPrimaryKeys",
        "SELECT result.TABLE_CAT, result.TABLE_SCHEM, result.TABLE_NAME, result.COLUMN_NAME, "
        "result.KEY_SEQ, result.PK_NAME FROM (SELECT NULL AS TABLE_CAT, n.nspname AS "
        "TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME, "
        "(information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME, "
        "information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM "
        "pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid) JOIN "
        "pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) JOIN pg_catalog.pg_index i ON "
        "( a.attrelid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) "
        f"WHERE true AND n.nspname = E'{SCHEMA}' AND ct.relname = E'{TABLE}' AND "
        "i.indisprimary ) result where result.A_ATTNUM = (result.KEYS).x ORDER BY "
        "result.table_name, result.pk_name, result.key_seq",
        expect="empty",
    ),
    ToolQuery(
        "pgjdbc",
        "getImportedKeys",
        "SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, pkc.relname AS "
        "PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME, NULL::text AS FKTABLE_CAT, fkn.nspname AS "
        "FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, fka.attname AS FKCOLUMN_NAME, pos.n AS "
        "KEY_SEQ, CASE con.confupdtype WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN "
        "'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE, "
        "con.conname AS FK_NAME, pkic.relname AS PK_NAME FROM pg_catalog.pg_namespace pkn, "
        "pg_catalog.pg_class pkc, pg_catalog.pg_attribute pka, pg_catalog.pg_namespace fkn, "
        "pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka, pg_catalog.pg_constraint con, "
        "pg_catalog.generate_series(1, 32) pos(n), pg_catalog.pg_class pkic WHERE "
        "pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = "
        "con.confkey[pos.n] AND con.confrelid = pkc.oid AND fkn.oid = fkc.relnamespace AND "
        "fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid "
        "AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = "
        f"con.conindid AND fkn.nspname = E'{SCHEMA}' AND fkc.relname = E'{TABLE}' "
        "ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n",
        expect="empty",
    ),
    ToolQuery(
        "pgjdbc",
        "a result column's type (TypeInfoCache)",
        "SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM "
        "pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid "
        "WHERE t.oid = %s",
        params=(1184,),
        expect="value",
        value=(True, "pg_catalog", "timestamptz"),
    ),
    ToolQuery(
        "pgjdbc",
        "whether a type is an array (TypeInfoCache)",
        "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, "
        "pg_type.oid FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, "
        "r.r from pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as "
        "nspname from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) "
        "as r using ( nspname ) ) as sp ON sp.nspoid = typnamespace WHERE pg_type.oid = %s "
        "ORDER BY sp.r, pg_type.oid DESC",
        params=(1009,),
        expect="rows",
    ),
    ToolQuery(
        "pgjdbc",
        "getTypeInfo",
        "SELECT t.typname,t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON "
        "(t.typnamespace = n.oid) WHERE n.nspname != 'pg_toast' AND (t.typrelid = 0 OR "
        "(SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))",
        expect="rows",
    ),
]

# Metabase (its own queries beside pgjdbc's, as its postgres driver syncs a database).
METABASE = [
    ToolQuery("metabase", "can it connect", "SELECT 1", expect="value", value=(1,)),
    ToolQuery("metabase", "the session's time zone", "SET TIME ZONE 'UTC'", expect="none"),
    ToolQuery(
        "metabase",
        "read-only sessions",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        expect="none",
    ),
    ToolQuery(
        "metabase",
        "the default schema",
        "SELECT current_schema()",
        expect="value",
        value=("public",),
    ),
    ToolQuery(
        "metabase",
        "isolation",
        "SHOW TRANSACTION ISOLATION LEVEL",
        expect="value",
        value=("read committed",),
    ),
    ToolQuery("metabase", "the server's version", "SELECT version()", expect="rows"),
    ToolQuery(
        "metabase",
        "describe-database: the tables",
        'SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" '
        "WHEN 'p' THEN 'partitioned table' WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' "
        "WHEN 'f' THEN 'foreign table' WHEN 'm' THEN 'materialized view' ELSE NULL END AS "
        '"type", "d"."description" AS "description", "stat"."n_live_tup" AS '
        '"estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN '
        '"pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN '
        '"pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND '
        '("d"."objsubid" = 0) AND ("d"."classoid" = \'pg_class\'::regclass) LEFT JOIN '
        '"pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND '
        '("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND '
        '("n"."nspname" !~ \'^pg_\') AND ("n"."nspname" <> \'information_schema\') AND '
        "c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" NOT IN "
        '(\'information_schema\')) ORDER BY "type" ASC, "schema" ASC, "name" ASC',
        expect="tables",
        columns=(0, 1),
    ),
    ToolQuery(
        "metabase",
        "describe-fields: every column with its type and comment",
        'SELECT "c"."column_name" AS "name", "c"."udt_name" AS "database-type", '
        '"c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS '
        '"table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS '
        "\"pk?\", COL_DESCRIPTION(CAST(CAST(FORMAT('%%I.%%I', "
        'CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS '
        'OID), "c"."ordinal_position") AS '
        '"field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = \'null\')) '
        'AND ("is_nullable" = \'NO\') AND NOT ((("column_default" IS NOT NULL) AND '
        "(\"column_default\" LIKE '%%nextval(%%')) OR (\"is_identity\" <> 'NO')) AS "
        '"database-required", (("column_default" IS NOT NULL) AND ("column_default" LIKE '
        "'%%nextval(%%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\" FROM "
        '"information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", '
        '"tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" '
        'AS "tc" INNER JOIN "information_schema"."key_column_usage" AS "kc" ON '
        '("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = '
        '"kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE '
        '"tc"."constraint_type" = \'PRIMARY KEY\') AS "pk" ON ("c"."table_schema" = '
        '"pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND '
        '("c"."column_name" = "pk"."column_name") WHERE ("c"."table_schema" !~ '
        '\'^information_schema|catalog_history|pg_\') AND ("c"."table_schema" IN (%s)) '
        'AND ("c"."table_name" IN (%s)) ORDER BY "table-schema" ASC, "table-name" ASC, '
        '"database-position" ASC',
        params=(SCHEMA, TABLE),
        expect="columns",
        columns=(4, 0),
    ),
    ToolQuery(
        "metabase",
        "which tables it may read and write",
        "with table_privileges as ( select NULL as role, t.schemaname as schema, t.objectname "
        "as table, pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' "
        "|| '.' || '\"' || t.objectname || '\"', 'UPDATE') as update, "
        "pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || "
        "'\"' || t.objectname || '\"', 'SELECT') as select, "
        "pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || "
        "'\"' || t.objectname || '\"', 'INSERT') as insert, "
        "pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || "
        "'\"' || t.objectname || '\"', 'DELETE') as delete from ( select schemaname, tablename "
        "as objectname from pg_catalog.pg_tables union select schemaname, viewname as "
        "objectname from pg_catalog.pg_views union select schemaname, matviewname as objectname "
        "from pg_catalog.pg_matviews ) t where t.schemaname !~ '^pg_' and t.schemaname <> "
        "'information_schema' and pg_catalog.has_schema_privilege(current_user, t.schemaname, "
        "'USAGE') ) select t.* from table_privileges t",
        expect="tables",
        columns=(1, 2),
    ),
    ToolQuery(
        "metabase",
        "enum types (none here)",
        "SELECT nspname AS schema, typname AS type FROM pg_type t JOIN pg_namespace n ON "
        "n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)",
        expect="empty",
    ),
]

# DBeaver (its PostgreSQL plugin's own queries, run over pgjdbc's extended protocol).
DBEAVER = [
    ToolQuery(
        "dbeaver",
        "connect: who and where",
        "SELECT current_schema(),session_user",
        expect="value",
        value=("public", "tester"),
    ),
    ToolQuery("dbeaver", "connect: the version", "SELECT version()", expect="rows"),
    ToolQuery(
        "dbeaver",
        "connect: quoting",
        "select * from pg_catalog.pg_settings where name='standard_conforming_strings'",
        expect="rows",
    ),
    ToolQuery("dbeaver", "connect: the search path", "SHOW search_path", expect="rows"),
    ToolQuery(
        "dbeaver",
        "the database",
        "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=%s",
        params=("sqlprovider",),
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "databases to list",
        "SELECT db.oid,db.* FROM pg_catalog.pg_database "
        "db WHERE NOT datistemplate AND datallowconn ORDER BY db.datname",
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "roles",
        "SELECT a.oid,a.* FROM pg_catalog.pg_roles a ORDER BY a.rolname",
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "the keywords",
        "select string_agg(word, ',') from "
        "pg_catalog.pg_get_keywords() where word <> ALL "
        "('{a,abs,absolute,action,ada,add,admin,after,all,allocate,alter,always,and,any}'"
        "::text[])",
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "schemas with their comments",
        "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN "
        "pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND "
        "d.classoid='pg_namespace'::regclass ORDER BY nspname",
        expect="schemas",
        columns=(2,),
    ),
    ToolQuery(
        "dbeaver",
        "a schema's tables",
        "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,"
        "d.description, case when c.relkind='p' then "
        "pg_catalog.pg_get_partkeydef(c.oid) else null end as partition_key FROM "
        "pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_class t ON "
        "t.oid=c.reltoastrelid LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.reloftype "
        "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND "
        "d.classoid='pg_class'::regclass WHERE c.relnamespace=(SELECT oid FROM "
        "pg_catalog.pg_namespace WHERE nspname=%s) AND c.relkind not in ('i','I','c')",
        params=(SCHEMA,),
        expect="tables",
        columns=(-1, 2),
    ),
    ToolQuery(
        "dbeaver",
        "a table's columns",
        "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as "
        "def_value,dsc.description,dep.objid FROM pg_catalog.pg_attribute a INNER JOIN "
        "pg_catalog.pg_class c ON (a.attrelid=c.oid) LEFT OUTER JOIN pg_catalog.pg_attrdef ad "
        "ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum) LEFT OUTER JOIN "
        "pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT "
        "OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and "
        "dep.refobjsubid = a.attnum and dep.classid = dep.refclassid WHERE NOT a.attisdropped "
        "AND c.relkind not in ('i','I','c') AND c.oid=(SELECT c2.oid FROM pg_catalog.pg_class "
        "c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = %s "
        "AND c2.relname = %s) ORDER BY a.attnum",
        params=(SCHEMA, TABLE),
        expect="columns",
        columns=(0, 2),
    ),
    ToolQuery(
        "dbeaver",
        "the data types",
        "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as "
        "base_type_name, d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN "
        "pg_catalog.pg_type et ON et.oid=t.typelem LEFT OUTER JOIN pg_catalog.pg_class c ON "
        "c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE "
        "t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory "
        "IS NULL OR et.typcategory <> 'C')",
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "table sizes",
        "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,"
        "pg_catalog.pg_relation_size(c.oid) as rel_size FROM pg_class c WHERE "
        "c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname=%s)",
        params=(SCHEMA,),
        expect="rows",
    ),
    ToolQuery(
        "dbeaver",
        "a table's indexes (none here)",
        "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,"
        "tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, "
        "i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as "
        "expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,"
        "pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans FROM "
        "pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid INNER "
        "JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid LEFT OUTER JOIN "
        "pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid WHERE "
        "tc.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname=%s) ORDER BY "
        "tabrelname, c.relname",
        params=(SCHEMA,),
        expect="empty",
    ),
    ToolQuery(
        "dbeaver",
        "constraints (none here)",
        "SELECT c.oid,c.*,t.relname as tabrelname,case when c.contype='c' then "
        "substr(pg_catalog.pg_get_constraintdef(c.oid), 7) else null end consrc_copy FROM "
        "pg_catalog.pg_constraint c INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid "
        "WHERE t.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname=%s) "
        "ORDER BY c.oid",
        params=(SCHEMA,),
        expect="empty",
    ),
]

# Grafana's PostgreSQL data source: its health check and its query editor's pickers.
GRAFANA = [
    ToolQuery("grafana", "save & test", "SELECT 1", expect="value", value=(1,)),
    ToolQuery(
        "grafana",
        "the server's version",
        "SELECT current_setting('server_version_num')::int/100 as version",
        expect="value",
        value=(1600,),
    ),
    ToolQuery(
        "grafana",
        "TimescaleDB?",
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
        expect="empty",
    ),
    ToolQuery(
        "grafana",
        "the table picker",
        "SELECT quote_ident(table_schema) AS schema, quote_ident(table_name) AS table FROM "
        "information_schema.tables WHERE quote_ident(table_schema) NOT IN "
        "('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog', "
        "'_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', "
        "'timescaledb_experimental') ORDER BY 1, 2",
        expect="tables",
        columns=(0, 1),
    ),
    ToolQuery(
        "grafana",
        "the table picker, limited to the search path",
        'select quote_ident(table_name) as "table" from information_schema.tables where '
        "quote_ident(table_schema) not in ('information_schema', 'monitor', 'pg_catalog', "
        "'pg_toast', 'pg_temp_1', 'pg_toast_temp_1') and table_type = 'BASE TABLE' and "
        "quote_ident(table_schema) IN (SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN user "
        "ELSE trim(s[i]) END FROM generate_series(array_lower(string_to_array("
        "current_setting('search_path'),','),1), array_upper(string_to_array("
        "current_setting('search_path'),','),1)) as i, string_to_array("
        "current_setting('search_path'),',') s)",
        expect="empty",  # the search path is public, which holds no provider table
    ),
    ToolQuery(
        "grafana",
        "the column picker",
        'SELECT quote_ident(column_name) AS "column", data_type AS "type" FROM '
        "information_schema.columns WHERE quote_ident(table_schema) = %s AND "
        "quote_ident(table_name) = %s ORDER BY ordinal_position",
        params=(SCHEMA, TABLE),
        expect="columns",
        columns=(-1, 0),
    ),
    ToolQuery(
        "grafana",
        "time columns for the time picker",
        "SELECT quote_ident(column_name) as column FROM information_schema.columns WHERE "
        f"quote_ident(table_schema) = '{SCHEMA}' AND quote_ident(table_name) = '{TABLE}' AND "
        "data_type IN ('timestamp without time zone', 'timestamp with time zone', "
        "'bigint', 'integer', 'double precision', 'real')",
        expect="rows",
    ),
]

EVERY = [*PGJDBC, *METABASE, *DBEAVER, *GRAFANA]
