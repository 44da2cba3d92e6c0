"""Generated writes: an UPDATE, REPLACE or DELETE acts on exactly the objects its WHERE selects
in the full data (loaded just before, from a fresh emulator), once each, and sends nothing
taken from the WHERE in a body. Refusals happen before any request."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import sqlprovider
from tests.oracle.conftest import COMMON, examples
from tests.oracle.writes import (
    JOBS,
    KB,
    KB_SOURCES,
    STATUS,
    TARGETS,
    check_write,
    ids,
    lit,
    refused_with_nothing_sent,
    touched,
    world,
    write_sql,
    write_where,
)


@pytest.mark.parametrize("name", list(TARGETS))
@settings(max_examples=examples(6), **COMMON)
@given(data=st.data())
def test_a_write_touches_exactly_what_its_where_selects(name: str, data: st.DataObject) -> None:
    target = TARGETS[name]
    with world(target.provider, target.loaded) as w:
        where = data.draw(write_where(w, target))
        note(write_sql(target, where))
        check_write(w, target, where)


SET_ID = {
    "knowledge_bases": ("digitalocean", KB, "UPDATE {t} SET uuid = {a} WHERE uuid = {c}", "uuid"),
    "indexing_jobs": ("digitalocean", JOBS, "REPLACE {t} SET uuid = {a} WHERE uuid = {c}", "uuid"),
    "onyx": (
        "onyx",
        STATUS,
        "UPDATE {t} SET cc_pair_id = {a}, data__status = 'PAUSED' WHERE cc_pair_id = {c}",
        "cc_pair_id",
    ),
}


@pytest.mark.parametrize("case", list(SET_ID))
def test_setting_the_identifying_param_is_refused(case: str) -> None:
    provider, table, template, column = SET_ID[case]
    with world(provider, [table]) as w:
        a, _, c = ids(w, table, column)
        refused_with_nothing_sent(w, template.format(t=table, a=lit(a), c=lit(c)))


BAD_IDS = {
    "uuid = NULL": ("digitalocean", KB, "DELETE FROM {t} WHERE uuid = NULL"),
    "uuid IN (SELECT NULL)": ("digitalocean", KB, "DELETE FROM {t} WHERE uuid IN (SELECT NULL)"),
    "uuid = ''": ("digitalocean", KB, "DELETE FROM {t} WHERE uuid = ''"),
    "uuid = '.'": ("digitalocean", KB, "UPDATE {t} SET tags = ['x'] WHERE uuid = '.'"),
    "uuid = '..'": ("digitalocean", KB, "DELETE FROM {t} WHERE uuid = '..'"),
    "job uuid = '..'": (
        "digitalocean",
        JOBS,
        "REPLACE {t} SET data__uuid = uuid WHERE uuid = '..'",
    ),
    "data_source_uuid = '..'": (
        "digitalocean",
        KB_SOURCES,
        "DELETE FROM {t} WHERE knowledge_base_uuid = {kb} AND data_source_uuid = '..'",
    ),
    "data_source_uuid = ''": (
        "digitalocean",
        KB_SOURCES,
        "DELETE FROM {t} WHERE knowledge_base_uuid = {kb} AND data_source_uuid = ''",
    ),
    "knowledge_base_uuid = '.'": (
        "digitalocean",
        KB_SOURCES,
        "DELETE FROM {t} WHERE knowledge_base_uuid = '.' AND data_source_uuid = {ds}",
    ),
    "cc_pair_id = 5.5": (
        "onyx",
        STATUS,
        "UPDATE {t} SET data__status = 'PAUSED' WHERE cc_pair_id = 5.5",
    ),
    "cc_pair_id = NULL": (
        "onyx",
        STATUS,
        "UPDATE {t} SET data__status = 'PAUSED' WHERE cc_pair_id = NULL",
    ),
}


@pytest.mark.parametrize("case", list(BAD_IDS))
def test_bad_identifying_values_are_refused_before_any_request(case: str) -> None:
    provider, table, template = BAD_IDS[case]
    tables = [KB, KB_SOURCES] if table == KB_SOURCES else [table]
    with world(provider, tables) as w:
        kb, ds = "x", "x"
        if table == KB_SOURCES:
            kb, ds = w.full.db.execute(
                f"SELECT knowledge_base_uuid, uuid FROM {KB_SOURCES} ORDER BY ALL LIMIT 1"
            ).fetchone() or ("x", "x")
        refused_with_nothing_sent(
            w, template.format(t=table, kb=lit(kb), ds=lit(ds)), any_request=True
        )


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("verb", ["DELETE", "PUT"])
def test_a_redirect_answering_a_write_is_an_error(verb: str, status: int) -> None:
    with world("digitalocean", [KB]) as w:
        [uuid] = ids(w, KB, "uuid", 1)
        w.server.faults.fail(verb, f"/v2/gen-ai/knowledge_bases/{uuid}", status=status, times=None)
        sql = (
            f"DELETE FROM {KB} WHERE uuid = {lit(uuid)}"
            if verb == "DELETE"
            else f"UPDATE {KB} SET tags = ['x'] WHERE uuid = {lit(uuid)}"
        )
        answer = w.run(sql)
        assert isinstance(answer.error, sqlprovider.Error), (
            f"a {status} answer to {verb} counted as success\n  {sql}\n  {answer.summary()}"
        )


@settings(max_examples=examples(4), **COMMON)
@given(data=st.data())
def test_exec_cancel_touches_exactly_the_named_job(data: st.DataObject) -> None:
    target = TARGETS["replace (cancel) indexing_jobs"]
    with world("digitalocean", [JOBS]) as w:
        uuid = data.draw(st.sampled_from(ids(w, JOBS, "uuid", 40)))
        sql = f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = {lit(uuid)}"
        note(sql)
        answer = w.run(sql)
        assert answer.error is None, f"{sql}: {answer.summary()}"
        assert touched(target, w.writes()) == {(uuid,): 1}
