"""Catalog queries: recognising them, and pointing them at the catalog database.

Clients write catalog SQL for Postgres (``pg_catalog.pg_class``, ``OPERATOR(pg_catalog.~)``,
``COLLATE pg_catalog.default``, ``::regclass``); the catalog is DuckDB tables and macros
(see ``catalog``). Each rewrite here is about spelling only: the query asks the same.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import TokenType, exp

from sqlprovider.pgserver.catalog import CATALOG_TABLES, INFORMATION_TABLES

# Functions answered per connection (who is asking, which database, which settings).
_SESSION_NODES: tuple[type[exp.Expr], ...] = (
    exp.CurrentDatabase,
    exp.CurrentSchema,
    exp.CurrentUser,
    exp.SessionUser,
    exp.CurrentVersion,
)
_SESSION_FUNCTIONS = frozenset(
    {
        "version",
        "current_setting",
        "set_config",
        "pg_backend_pid",
        "current_schemas",
        "pg_postmaster_start_time",
        "inet_server_addr",
        "inet_server_port",
        "inet_client_addr",
        "to_regtype",
        "to_regclass",
        "user",
    }
)
_MACROS = frozenset(
    {
        "pg_get_userbyid", "pg_table_is_visible", "pg_type_is_visible",
        "pg_function_is_visible", "pg_get_expr", "pg_get_indexdef", "pg_get_constraintdef",
        "pg_get_viewdef", "pg_get_triggerdef", "pg_get_partkeydef",
        "pg_get_statisticsobjdef_columns", "pg_get_serial_sequence", "pg_relation_size",
        "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_size_pretty",
        "pg_encoding_to_char", "pg_is_in_recovery", "pg_my_temp_schema",
        "pg_is_other_temp_schema", "txid_current", "shobj_description", "has_table_privilege",
        "has_schema_privilege", "has_database_privilege", "has_column_privilege",
        "has_any_column_privilege", "has_function_privilege", "has_sequence_privilege",
        "pg_has_role", "quote_ident", "format_type", "obj_description", "col_description",
        "pg_relation_is_publishable", "pg_get_function_identity_arguments", "array_upper",
        "array_lower",
        "pg_get_function_result", "pg_tablespace_location", "pg_get_ruledef",
        "pg_stat_get_numscans",
    }
)  # fmt: skip
_TABLE_MACROS = frozenset({"pg_get_keywords"})
_NULL_FUNCTIONS = frozenset(
    {"pg_postmaster_start_time", "inet_server_addr", "inet_client_addr", "inet_server_port"}
)
_RENAMED = {"json_build_object": "json_object", "jsonb_build_object": "json_object"}
_REGEX = {"~": (False, False), "~*": (False, True), "!~": (True, False), "!~*": (True, True)}
_CAST_TO = {"oid": "BIGINT", "name": "VARCHAR", "char": "VARCHAR", "regproc": "VARCHAR"}


def parse(sql: str) -> exp.Expr | None:
    """The statement as Postgres SQL, or None when sqlglot cannot read it (or it holds more
    than one statement). Postgres takes any keyword as a column label after AS (Metabase
    writes ``... AS select``); one sqlglot refuses is read again quoted."""
    for text in (sql, _labels_quoted(sql)):
        try:
            trees = [t for t in sqlglot.parse(text, read="postgres") if t is not None]
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
            continue
        return trees[0] if len(trees) == 1 else None
    return None


def _labels_quoted(sql: str) -> str:
    """``sql`` with each keyword that follows AS as a label (``AS select``) double-quoted."""
    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except sqlglot.errors.TokenError:
        return sql
    pieces, last = [], 0
    for before, token in itertools.pairwise(tokens):
        if (
            before.token_type is TokenType.ALIAS
            and token.text.isalpha()
            and (token.token_type is not TokenType.VAR)
        ):
            pieces += [sql[last : token.start], f'"{token.text}"']
            last = token.end + 1
    return "".join(pieces) + sql[last:]


def is_catalog_query(tree: exp.Expr) -> bool:
    """Whether ``tree`` reads the catalog: it names a pg_catalog or information_schema table,
    or it is a SELECT without tables of a function only the connection can answer."""
    if not isinstance(tree, exp.Query):
        return False
    tables = list(tree.find_all(exp.Table))
    if any(_catalog_table(t) is not None or _function_name(t.this) in _TABLE_MACROS
           for t in tables):  # fmt: skip
        return True
    if tables:
        return False
    if any(tree.find_all(*_SESSION_NODES)):
        return True
    return any(_function_name(f) in _SESSION_FUNCTIONS | _MACROS for f in tree.find_all(exp.Func))


def catalog_sql(tree: exp.Expr, values: Mapping[str, Any]) -> str:
    """``tree`` as DuckDB SQL over the catalog database.

    Args:
        values: the connection's answers: ``user``, ``database``, ``version``, ``pid``,
            ``settings`` (a mapping of setting names, lower case, to their values).
    """
    tree = tree.copy()
    for table in list(tree.find_all(exp.Table)):
        target = _catalog_table(table)
        if target is None:
            if (table.db or "").lower() == "pg_catalog":  # a function: generate_series(...)
                table.set("db", None)
            if _function_name(table.this) in _TABLE_MACROS:
                table.set("db", exp.to_identifier("pgc"))
            continue
        if target[1] == "pg_settings":  # the connection's own settings
            table.replace(_settings_table(table, values["settings"]))
            continue
        schema, name = target
        if not table.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
        table.set("catalog", None)
        table.set("db", exp.to_identifier(schema))
        table.set("this", exp.to_identifier(name))
    for column in tree.find_all(exp.Column):
        if (column.text("db") or "").lower() in ("pg_catalog", "information_schema"):
            column.set("db", None)
    for dot in list(tree.find_all(exp.Dot)):
        if isinstance(dot.this, exp.Identifier | exp.Column) and dot.this.name == "pg_catalog":
            dot.replace(dot.expression)
    _session_values(tree, values)
    for func in list(tree.find_all(exp.Anonymous)):
        name = _function_name(func)
        if name in _MACROS:
            func.replace(exp.Dot(this=exp.to_identifier("pgc"), expression=func.copy()))
        elif name in _RENAMED:
            func.set("this", _RENAMED[name])
    _formats(tree)
    _operators(tree)
    return tree.sql(dialect="duckdb")


def output_names(tree: exp.Expr) -> list[str]:
    """The names of the columns ``tree`` selects (empty when it is no query)."""
    if not isinstance(tree, exp.Query):
        return []
    return [s.alias_or_name or f"column{i}" for i, s in enumerate(tree.selects, start=1)]


def _catalog_table(table: exp.Table) -> tuple[str, str] | None:
    schema, name = (table.db or "").lower(), table.name.lower()
    if schema == "information_schema" and name in INFORMATION_TABLES:
        return "pgis", name
    if schema in ("pg_catalog", "") and name in CATALOG_TABLES:
        return "pgc", name
    return None


def _function_name(func: exp.Expr) -> str:
    if isinstance(func, exp.Anonymous):
        return str(func.this).lower()
    return str(func.sql_name()).lower() if isinstance(func, exp.Func) else ""


def _named(node: exp.Expr, value: exp.Expr, name: str) -> None:
    """Replace ``node`` by ``value``; in a select list it keeps the name Postgres gives it
    (``SELECT version()`` is a column named version)."""
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        value = exp.alias_(value, name)
    node.replace(value)


def _session_values(tree: exp.Expr, values: Mapping[str, Any]) -> None:
    settings: Mapping[str, str] = values["settings"]
    literal = exp.Literal.string
    for node in list(tree.find_all(*_SESSION_NODES)):
        if isinstance(node, exp.CurrentDatabase):
            _named(node, literal(values["database"]), "current_database")
        elif isinstance(node, exp.CurrentSchema):
            _named(node, literal("public"), "current_schema")
        elif isinstance(node, exp.CurrentVersion):
            _named(node, literal(values["version"]), "version")
        else:
            name = "session_user" if isinstance(node, exp.SessionUser) else "current_user"
            _named(node, literal(values["user"]), name)
    for func in list(tree.find_all(exp.Anonymous)):
        name, args = _function_name(func), func.expressions
        first = args[0].name.lower() if args and isinstance(args[0], exp.Literal) else None
        if name == "version":
            _named(func, literal(values["version"]), name)
        elif name == "user":
            _named(func, literal(values["user"]), name)
        elif name == "pg_backend_pid":
            _named(func, exp.Literal.number(values["pid"]), name)
        elif name == "current_setting" and first is not None:
            value = literal(settings[first]) if first in settings else exp.null()
            _named(func, value, name)
        elif name == "current_schemas":
            func.replace(exp.Array(expressions=[literal("pg_catalog"), literal("public")]))
        elif name in ("to_regtype", "to_regclass") and args:
            func.replace(_oid_lookup(name, args[0]))
        elif name in _NULL_FUNCTIONS:
            func.replace(exp.null())


def _oid_lookup(name: str, value: exp.Expr) -> exp.Expr:
    """``to_regtype(x)`` / ``to_regclass(x)``: the OID of the type or table named ``x``."""
    table, column = ("pg_type", "typname") if name == "to_regtype" else ("pg_class", "relname")
    lookup = sqlglot.parse_one(f"(SELECT max(oid) FROM pgc.{table} WHERE {column} = 1)")
    for literal in list(lookup.find_all(exp.Literal)):
        if literal.this == "1":
            literal.replace(value.copy())
    return lookup


def _operators(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.Operator)):
        operator = str(node.args.get("operator", "")).split(".")[-1].strip()
        if operator in _REGEX:
            negated, insensitive = _REGEX[operator]
            pattern = node.expression
            if insensitive:
                pattern = exp.Concat(expressions=[exp.Literal.string("(?i)"), pattern])
            match: exp.Expr = exp.RegexpLike(this=node.this, expression=pattern)
            node.replace(exp.Not(this=match) if negated else match)
    for collate in list(tree.find_all(exp.Collate)):
        collate.replace(collate.this)
    for cast in list(tree.find_all(exp.Cast)):
        target = cast.to.sql(dialect="postgres").lower().strip('"') if cast.to else ""
        target = target.split(".")[-1].strip('"')
        if cast.to and cast.to.is_type(exp.DataType.Type.ARRAY) and _is_array_text(cast.this):
            cast.set("this", _array_literal(cast.this.name))
        elif target == "regclass" and _is_text(cast.this):
            cast.replace(_class_oid(cast.this))
        elif target == "regproc" and isinstance(cast.this, exp.Literal):
            cast.replace(exp.Literal.string(cast.this.name.removeprefix("pg_catalog.")))
        elif target.startswith("reg"):
            cast.replace(cast.this)
        elif target in _CAST_TO:
            cast.set("to", exp.DataType.build(_CAST_TO[target]))
        elif "pg_catalog." in (cast.to.sql(dialect="postgres").lower() if cast.to else ""):
            try:
                cast.set("to", exp.DataType.build(target, dialect="postgres"))
            except (sqlglot.errors.ParseError, ValueError):
                cast.replace(cast.this)


# The catalog tables' own OIDs, for ``'pg_class'::regclass`` (pg_description.classoid).
_SYSTEM_CLASSES = {
    "pg_class": 1259, "pg_namespace": 2615, "pg_type": 1247, "pg_proc": 1255,
    "pg_attribute": 1249, "pg_constraint": 2606, "pg_database": 1262, "pg_authid": 1260,
    "pg_roles": 1260, "pg_description": 2609, "pg_index": 2610, "pg_trigger": 2620,
    "pg_am": 2601, "pg_attrdef": 2604, "pg_operator": 2617, "pg_rewrite": 2618,
    "pg_extension": 3079, "pg_collation": 3456, "pg_enum": 3501, "pg_tablespace": 1213,
    "pg_depend": 2608, "pg_language": 2612, "pg_cast": 2605, "pg_event_trigger": 3466,
}  # fmt: skip


def _is_text(node: exp.Expr) -> bool:
    return (isinstance(node, exp.Literal) and node.is_string) or isinstance(
        node, exp.Format | exp.Concat | exp.DPipe | exp.Cast
    )


def _class_oid(name: exp.Expr) -> exp.Expr:
    """``name::regclass`` for a table's name (``'schema.table'``, quoted or not): its OID."""
    if isinstance(name, exp.Literal):
        system = _SYSTEM_CLASSES.get(name.name.lower().removeprefix("pg_catalog."))
        if system is not None:
            return exp.Literal.number(system)
    lookup = sqlglot.parse_one(
        "(SELECT max(c.oid) FROM pgc.pg_class AS c JOIN pgc.pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE replace(x, '\"', '') IN "
        "(c.relname, n.nspname || '.' || c.relname))",
        read="duckdb",
    )
    for column in list(lookup.find_all(exp.Column)):
        if column.name == "x" and not column.table:
            column.replace(name.copy())
    return lookup


def _formats(tree: exp.Expr) -> None:
    """Postgres's ``format('%I.%I', a, b)`` as a concatenation (DuckDB's format differs)."""
    for node in list(tree.find_all(exp.Format)):
        template = node.this
        if not (isinstance(template, exp.Literal) and template.is_string):
            continue
        args = list(node.expressions)
        parts: list[exp.Expr] = []
        for piece in re.split(r"(%[%IsL])", template.name):
            if piece in ("%I", "%s", "%L") and args:
                value: exp.Expr = exp.cast(args.pop(0), "VARCHAR")
                if piece == "%I":
                    value = exp.Dot(
                        this=exp.to_identifier("pgc"),
                        expression=exp.Anonymous(this="quote_ident", expressions=[value]),
                    )
                elif piece == "%L":
                    quote = exp.Literal.string("'")
                    doubled = exp.Anonymous(
                        this="replace", expressions=[value, quote, exp.Literal.string("''")]
                    )
                    value = exp.Concat(expressions=[quote, doubled, quote])
                parts.append(value)
            elif piece:
                parts.append(exp.Literal.string("%" if piece == "%%" else piece))
        node.replace(exp.Concat(expressions=parts or [exp.Literal.string("")]))


_SETTINGS_COLUMNS = ("name", "setting", "unit", "category", "short_desc", "extra_desc",
                     "context", "vartype", "source", "min_val", "max_val", "enumvals",
                     "boot_val", "reset_val")  # fmt: skip


def _settings_table(table: exp.Table, settings: Mapping[str, str]) -> exp.Expr:
    """``pg_settings`` as the connection's settings: a subquery under the table's alias."""
    rows = ", ".join(
        "(" + ", ".join(exp.Literal.string(v).sql() for v in (name, value)) + ")"
        for name, value in sorted(settings.items())
    )
    nulls = ", ".join(
        f"NULL::VARCHAR{'[]' if c == 'enumvals' else ''} AS {c}" for c in _SETTINGS_COLUMNS[2:]
    )
    subquery = sqlglot.parse_one(
        f"(SELECT name, setting, {nulls} FROM (VALUES {rows}) AS v(name, setting))",
        read="duckdb",
    )
    alias = table.alias or table.name
    return exp.Subquery(this=subquery.unnest(), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _is_array_text(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.name.startswith("{")


def _array_literal(text: str) -> exp.Expr:
    """Postgres's array text (``'{a,"b c"}'``) as an array of strings."""
    inner = text.strip()[1:-1]
    items = re.findall(r'"((?:[^"\\]|\\.)*)"|([^,]+)', inner) if inner else []
    values = [quoted.replace('\\"', '"') if quoted else bare.strip() for quoted, bare in items]
    return exp.Array(expressions=[exp.Literal.string(v) for v in values])
