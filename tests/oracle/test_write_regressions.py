"""Named write cases for known defects (numbers are the defect list's): writes act on exactly
the objects their WHERE selects, and refuse bad ids before any request."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from tests.oracle.harness import literal
from tests.oracle.writes import (
    JOBS,
    KB,
    KB_SOURCES,
    STATUS,
    TARGETS,
    UNKNOWN_ID,
    check_write,
    ids,
    lit,
    refused_with_nothing_sent,
    world,
)


def condition(template: str, **values: Any) -> exp.Expr:
    """A WHERE condition with each ``:name`` replaced by the value as a SQL literal."""
    tree = sqlglot.parse_one(f"SELECT 1 WHERE {template}", dialect="duckdb").args["where"].this
    literals = {name: literal(value) for name, value in values.items()}
    found: exp.Expr = exp.replace_placeholders(tree, **literals)
    return found


def test_13_contradicting_ids_delete_nothing() -> None:
    target = TARGETS["delete knowledge_bases"]
    with world("digitalocean", [KB]) as w:
        a, b, c = ids(w, KB, "uuid")
        check_write(w, target, condition("uuid = :a AND uuid = :b", a=a, b=b))
        check_write(w, target, condition("uuid = :a AND uuid IN (:b, :c)", a=a, b=b, c=c))


def test_14_a_condition_on_another_column_is_not_a_value_to_send() -> None:
    target = TARGETS["update knowledge_bases"]
    with world("digitalocean", [KB]) as w:
        [c] = ids(w, KB, "uuid", 1)
        name = w.full.values(f"SELECT name FROM {KB} WHERE uuid = {lit(c)}")[0]
        assert name != "x"
        # C's name is not x: nothing is selected, nothing changes, C is never renamed.
        check_write(w, target, condition("uuid = :c AND name = 'x'", c=c))
        assert all("name" not in (e.json or {}) for e in w.writes())


def test_14_setting_the_id_is_refused() -> None:
    with world("digitalocean", [KB]) as w:
        a, _, c = ids(w, KB, "uuid")
        refused_with_nothing_sent(w, f"UPDATE {KB} SET uuid = {lit(a)} WHERE uuid = {lit(c)}")


def test_15_null_empty_dot_and_fractional_ids_are_refused_before_any_request() -> None:
    with world("digitalocean", [KB, KB_SOURCES]) as w:
        [kb] = ids(w, KB_SOURCES, "knowledge_base_uuid", 1)
        for sql in (
            f"DELETE FROM {KB} WHERE uuid IN (SELECT NULL)",
            f"DELETE FROM {KB} WHERE uuid = ''",
            f"DELETE FROM {KB_SOURCES} WHERE knowledge_base_uuid = {lit(kb)} "
            "AND data_source_uuid = '..'",
        ):
            refused_with_nothing_sent(w, sql, any_request=True)
    with world("onyx", [STATUS]) as w:
        refused_with_nothing_sent(
            w,
            f"UPDATE {STATUS} SET data__status = 'PAUSED' WHERE cc_pair_id = 5.5",
            any_request=True,
        )


def test_select_then_write_cancels_exactly_the_running_jobs() -> None:
    target = TARGETS["replace (cancel) indexing_jobs"]
    with world("digitalocean", [JOBS]) as w:
        running = w.full.values(
            f"SELECT DISTINCT status FROM {JOBS} WHERE phase = 'BATCH_JOB_PHASE_RUNNING'"
        )
        assert running == ["INDEX_JOB_STATUS_IN_PROGRESS"], running
        check_write(w, target, condition("status = 'INDEX_JOB_STATUS_IN_PROGRESS'"))


# Found by the generated families (not in the original list).


def test_f7_a_null_id_from_a_subquery_is_refused_never_sent() -> None:
    target = TARGETS["update onyx cc pair status"]
    with world("onyx", [STATUS]) as w:
        # The federated Slack connector has no cc_pair_id: the subquery gives a NULL id,
        # which is never addressed (the statement is refused, or acts on the others).
        check_write(
            w,
            target,
            condition(
                "cc_pair_id IN (SELECT cc_pair_id FROM onyx.connector.indexing_status "
                "WHERE source = 'slack' OR federated_id IS NOT NULL)"
            ),
        )


def test_f8_a_data_source_of_another_knowledge_base_is_not_deleted() -> None:
    target = TARGETS["delete knowledge_base_data_sources"]
    with world("digitalocean", [KB, KB_SOURCES]) as w:
        row = w.full.db.execute(
            f"SELECT a.knowledge_base_uuid, b.uuid FROM {KB_SOURCES} a JOIN {KB_SOURCES} b "
            "ON a.knowledge_base_uuid <> b.knowledge_base_uuid ORDER BY ALL LIMIT 1"
        ).fetchone()
        assert row is not None
        kb, other = row
        check_write(
            w,
            target,
            condition("knowledge_base_uuid = :k AND data_source_uuid = :d", k=kb, d=other),
        )


def test_f9_an_id_that_does_not_exist_is_not_written_to() -> None:
    with world("digitalocean", [KB, JOBS]) as w:
        # The WHERE selects nothing in the full data: no request may go out for it.
        for name in ("delete knowledge_bases", "replace (cancel) indexing_jobs"):
            check_write(w, TARGETS[name], condition("uuid = :u", u=UNKNOWN_ID))
