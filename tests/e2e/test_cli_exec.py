"""``sqlprovider exec`` as a script runner (like ``psql -f``): files and standard input,
placeholders from --var and --vars, statement-by-statement errors with their line, every
output format, --output-file, --quiet and --dry-run, against the DigitalOcean emulator."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sqlprovider.cli.main import OUTPUT_FORMATS, main
from sqlprovider.output import FORMATS, OutputOptions, render
from sqlprovider.result import Result
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
JOB_PATH = "/v2/gen-ai/indexing_jobs"


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The shared emulator, reached through the environment as a user's shell would."""
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    return emulator


@pytest.fixture
def uuids(emulator: Emulator) -> list[str]:
    return [job["uuid"] for job in emulator.all_jobs()[:3]]


def _paths(emulator: Emulator, since: int) -> list[str]:
    """The paths of the requests the emulator received after the first ``since``."""
    return [entry.path for entry in emulator.server.log.entries()[since:]]


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _select(uuid: str) -> str:
    return f"SELECT uuid, phase FROM {JOBS} WHERE uuid = '{uuid}'"


# -- where the SQL comes from, and its placeholders ---------------------------------------


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_file_with_var_and_vars(
    env: Emulator,
    uuids: list[str],
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = tmp_path / "jobs.sql"
    script.write_text(
        "-- two statements, placeholders from a file and the command line\n"
        f"SELECT uuid FROM {JOBS} WHERE uuid = '{{{{ first }}}}';\n"
        f"SELECT uuid, '{{{{ label }}}}' AS label, {{{{ limit }}}} AS n\n"
        f"FROM {JOBS} WHERE uuid = '{{{{ second }}}}';\n"
    )
    values = {"first": uuids[0], "second": "overridden below", "label": "from-file", "limit": 7}
    if kind == "json":
        (tmp_path / "vars.json").write_text(json.dumps(values))
    else:
        (tmp_path / "vars.yaml").write_text(
            "".join(f"{key}: {json.dumps(value)}\n" for key, value in values.items())
        )
    before = len(env.server.log.entries())
    code = main(
        [
            "exec",
            "-f",
            str(script),
            "--vars",
            str(tmp_path / f"vars.{kind}"),
            "--var",
            f"second={uuids[1]}",  # --var wins over --vars
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert _csv(out) == [["uuid"], [uuids[0]], ["uuid", "label", "n"], [uuids[1], "from-file", "7"]]
    assert _paths(env, before) == [f"{JOB_PATH}/{uuids[0]}", f"{JOB_PATH}/{uuids[1]}"]


@pytest.mark.parametrize("argv", [["-f", "-"], []], ids=["dash-file", "piped-without-arguments"])
def test_sql_from_standard_input(
    env: Emulator,
    uuids: list[str],
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"SELECT 1 AS one;\n{_select('{{ job }}')};\n"))
    code = main(["exec", *argv, "--var", f"job={uuids[2]}", "-o", "jsonl"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0] == {"one": 1}
    assert rows[1]["uuid"] == uuids[2] and rows[1]["phase"].startswith("BATCH_JOB_PHASE_")


def test_errors_name_standard_input(
    env: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT 1;\n\nSELECT * FROM no_such_table;\n"))
    assert main(["exec", "-f", "-"]) == 1
    out, err = capsys.readouterr()
    assert _csv(out) == [["1"], ["1"]]
    assert err.startswith("error: <stdin>:3: ") and "no_such_table" in err


def test_undefined_placeholder_names_it_and_runs_nothing(
    env: Emulator, uuids: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.sql"
    script.write_text(f"{_select(uuids[0])};\n{_select('{{ job_uuid }}')};\n")
    before = len(env.server.log.entries())
    assert main(["exec", "-f", str(script), "--var", "other=1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"error: {script}: the SQL uses {{{{ job_uuid }}}} but no value was given; "
        "pass --var job_uuid=..."
    ]
    assert _paths(env, before) == []  # the first statement did not run either


def test_vars_file_that_is_not_a_mapping_and_broken_yaml(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    assert main(["exec", "SELECT 1", "--vars", str(listed)]) == 1
    assert capsys.readouterr().err == (
        f"error: {listed}: --vars needs a mapping of names to values, not a list\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("token: s3cr3t-value-in-file\nkey: [unclosed\n")
    assert main(["exec", "SELECT 1", "--vars", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken}:") and "not valid YAML or JSON" in err
    assert "s3cr3t-value-in-file" not in err  # the file's values are never echoed


# -- several statements: stop at the first failure, or go on -------------------------------


def _three_statements(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> tuple[Emulator, list[str], Path]:
    """A fresh emulator whose second job answers 403, and a script reading three jobs."""
    emulator = make_emulator(jobs=5)
    uuids = [job["uuid"] for job in emulator.all_jobs()[:3]]
    emulator.server.faults.fail("GET", f"{JOB_PATH}/{uuids[1]}", status=403)
    emulator.server.log.clear()
    script = tmp_path / "file.sql"
    script.write_text(
        f"-- first\n{_select(uuids[0])};\n\n-- second: refused\n{_select(uuids[1])};\n"
        f"\n{_select(uuids[2])};\n"
    )
    return emulator, uuids, script


def test_failing_statement_stops_the_script_and_names_file_and_line(
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator, uuids, script = _three_statements(make_emulator, tmp_path)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    code = main(["exec", "-f", str(script), "--server", f"digitalocean={emulator.url}"])
    out, err = capsys.readouterr()
    assert code == 1
    [line] = err.splitlines()  # one line, no traceback
    assert line.startswith(f"error: {script}:5: ") and "HTTP 403" in line
    assert TOKEN not in out + err
    rows = _csv(out)
    assert rows[0] == ["uuid", "phase"] and rows[1][0] == uuids[0]  # the first was printed
    assert len(rows) == 2
    paths = _paths(emulator, 0)
    assert paths == [f"{JOB_PATH}/{uuids[0]}", f"{JOB_PATH}/{uuids[1]}"]  # the third never ran


def test_continue_on_error_runs_the_rest_and_still_exits_1(
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator, uuids, script = _three_statements(make_emulator, tmp_path)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    code = main(["exec", "-f", str(script), "--continue-on-error", "-o", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"error: {script}:5: ") and "HTTP 403" in line
    assert [json.loads(row)["uuid"] for row in out.splitlines()] == [uuids[0], uuids[2]]
    assert _paths(emulator, 0)[-1] == f"{JOB_PATH}/{uuids[2]}"  # the third ran


def test_every_failure_is_reported_with_continue_on_error(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "two-bad.sql"
    script.write_text(
        f"SELECT j.phse FROM {JOBS} j;\nSELECT 'ok' AS fine;\nSELECT nope FROM missing_table;\n"
    )
    assert main(["exec", "-f", str(script), "--continue-on-error", "-o", "csv"]) == 1
    out, err = capsys.readouterr()
    assert out == "fine\nok\n"
    errors = err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"error: {script}:1: ") and "did you mean 'phase'" in errors[0]
    assert errors[1].startswith(f"error: {script}:3: ") and "missing_table" in errors[1]


def test_syntax_error_anywhere_runs_nothing(
    env: Emulator, uuids: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "typo.sql"
    script.write_text(f"{_select(uuids[0])};\nSELECT 1;\nSELECT uuid FROM\n  WHERE;\n")
    before = len(env.server.log.entries())
    assert main(["exec", "-f", str(script), "--continue-on-error"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {script}:") and "syntax error at line" in err
    assert _paths(env, before) == []


# -- output formats and destinations --------------------------------------------------------


def test_output_formats_are_the_renderers(env: Emulator) -> None:
    assert OUTPUT_FORMATS == FORMATS


def test_csv_is_the_default_when_stdout_is_not_a_terminal(
    env: Emulator, uuids: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["exec", f"SELECT uuid FROM {JOBS} WHERE uuid IN ('{uuids[0]}', '{uuids[1]}')"]) == 0
    )
    assert sorted(capsys.readouterr().out.splitlines()) == sorted(["uuid", uuids[0], uuids[1]])
    # an explicit -o always wins
    assert main(["exec", "-o", "table", "SELECT 1 AS one"]) == 0
    assert capsys.readouterr().out.startswith("┌")


def test_table_is_the_default_on_a_terminal(
    env: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["exec", "SELECT 1 AS one"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 row"


def test_markdown_is_a_github_table(
    env: Emulator, uuids: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "exec",
            "-o",
            "markdown",
            f"SELECT uuid, 'a|b' AS text, 42 AS n FROM {JOBS} WHERE uuid = '{uuids[0]}';"
            "SELECT 2 AS two",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "| uuid | text | n |",
        "| --- | --- | ---: |",
        f"| {uuids[0]} | a\\|b | 42 |",
        "",  # two results stay two tables
        "| two |",
        "| ---: |",
        "| 2 |",
    ]


def test_line_mode_is_one_column_per_line(
    env: Emulator, uuids: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = sorted(uuids[:2])
    code = main(
        [
            "exec",
            "-o",
            "line",
            f"SELECT uuid, NULL AS nothing FROM {JOBS} WHERE uuid IN ('{a}', '{b}') ORDER BY uuid",
        ]
    )
    assert code == 0
    # NULL shows as nothing by default, as in psql (--null-display changes it)
    assert capsys.readouterr().out == (f"   uuid = {a}\nnothing =\n\n   uuid = {b}\nnothing =\n")


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_change_counts_stay_out_of_data_formats(
    env: Emulator, uuids: list[str], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    script = (
        "CREATE TABLE mine AS SELECT 'local' AS uuid;\n"
        f"INSERT INTO mine SELECT '{uuids[0]}';\n"
        f"SELECT m.uuid FROM mine m LEFT JOIN {JOBS} j ON j.uuid = m.uuid ORDER BY m.uuid;\n"
    )
    assert main(["exec", "-o", fmt, script]) == 0
    out = capsys.readouterr().out
    expected = sorted([uuids[0], "local"])
    if fmt == "csv":
        assert out.splitlines() == ["uuid", *expected]
    elif fmt == "json":
        assert [row["uuid"] for row in json.loads(out)] == expected
    else:
        assert [json.loads(line)["uuid"] for line in out.splitlines()] == expected


@pytest.mark.parametrize(
    ("name", "argv", "check"),
    [
        ("out.csv", [], lambda text: _csv(text)[0] == ["uuid", "phase"]),  # DuckDB's export
        ("out.jsonl", [], lambda text: set(json.loads(text.splitlines()[0])) == {"uuid", "phase"}),
        ("out.md", [], lambda text: text.startswith("| uuid | phase |\n| --- | --- |\n")),
        ("out.txt", [], lambda text: _csv(text)[0] == ["uuid", "phase"]),
        ("out.csv", ["-o", "json"], lambda text: len(json.loads(text)) == 1),
    ],
)
def test_output_file(
    env: Emulator,
    uuids: list[str],
    tmp_path: Path,
    name: str,
    argv: list[str],
    check: Callable[[str], bool],
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / name
    target.write_text("old contents are replaced\n")
    assert main(["exec", _select(uuids[0]), "--output-file", str(target), *argv]) == 0
    assert capsys.readouterr() == ("", "")
    text = target.read_text(encoding="utf-8")
    assert check(text) and uuids[0] in text and "old contents" not in text


def test_output_file_keeps_what_ran_before_a_failure(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "partial.md"
    script = "SELECT 'é' AS letter;\nSELECT * FROM missing_table;\n"
    assert main(["exec", script, "--output-file", str(target)]) == 1
    assert capsys.readouterr().err.startswith("error: <command line>:2: ")
    assert target.read_text(encoding="utf-8") == "| letter |\n| --- |\n| é |\n"


def test_output_file_that_cannot_be_written(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "out.csv"
    assert main(["exec", "SELECT 1", "--output-file", str(target)]) == 1
    assert capsys.readouterr().err == (f"error: cannot write {target}: No such file or directory\n")


# -- what goes to stderr --------------------------------------------------------------------


def _knowledge_base(emulator: Emulator) -> str:
    bases: list[dict[str, Any]] = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)[
        "knowledge_bases"
    ]
    return str(next(kb["uuid"] for kb in bases if "fail" not in kb["name"]))


def test_warnings_name_the_statement_and_quiet_hides_them(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    nothing = f"SELECT 1;\nINSERT INTO {JOBS} (data__knowledge_base_uuid) SELECT 'kb' WHERE false"
    assert main(["exec", nothing]) == 0
    assert capsys.readouterr().err == (
        "warning: <command line>:2: nothing was sent: the values to send had no rows\n"
    )
    assert main(["exec", "--quiet", nothing]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("1\n1\n")


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_only_on_a_terminal_and_never_when_quiet(
    make_emulator: Callable[..., Emulator],
    quiet: bool,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(jobs=5, phase_seconds=0.4)
    kb = _knowledge_base(emulator)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["exec", "--await", "--await-interval", "0.05", "-o", "csv"]
    insert = f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')"
    assert main([*argv, *(["-q"] if quiet else []), insert]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1].endswith("done: BATCH_JOB_PHASE_SUCCEEDED")
    if quiet:
        assert err == ""
    else:
        assert f"waiting for {JOBS}" in err and err.endswith("\r\033[K")  # cleared at the end


# -- dry runs -------------------------------------------------------------------------------


def test_dry_run_shows_each_rendered_statement_and_sends_nothing(
    env: Emulator, uuids: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "plan.sql"
    script.write_text(
        f"SELECT uuid FROM {JOBS} WHERE uuid = '{{{{ job }}}}';\n\n"
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{{{{ kb }}}}');\n"
    )
    target = tmp_path / "not-written.csv"
    before = len(env.server.log.entries())
    code = main(
        [
            "exec",
            "--dry-run",
            "-f",
            str(script),
            "--var",
            f"job={uuids[0]}",
            "--var",
            "kb=kb-123",
            "--output-file",
            str(target),
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    first, second = out.split("\n\n-- ")
    assert first.splitlines()[:2] == [
        f"-- {script}:1",
        f"SELECT uuid FROM {JOBS} WHERE uuid = '{uuids[0]}'",
    ]
    assert f"GET {env.url}{JOB_PATH}/{uuids[0]}" in first
    assert second.splitlines()[:2] == [
        f"{script}:3",
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('kb-123')",
    ]
    assert f"POST {env.url}{JOB_PATH}" in second and '"knowledge_base_uuid": "kb-123"' in second
    assert "Authorization: Bearer ***" in out and TOKEN not in out
    assert "{{" not in out
    assert _paths(env, before) == []  # nothing was sent
    assert not target.exists()  # and nothing was written


# -- the renderers themselves ---------------------------------------------------------------


def test_render_markdown_and_line_edge_cases() -> None:
    result = Result(
        columns=["name", "count", "notes"],
        types=["VARCHAR", "BIGINT", "VARCHAR"],
        rows=[("a|b", 3, "two\nlines"), (None, None, "back\\slash")],
    )
    shown = OutputOptions(mode="markdown", null_display="NULL")
    assert render(result, shown).splitlines() == [
        "| name | count | notes |",
        "| --- | ---: | --- |",
        "| a\\|b | 3 | two<br>lines |",
        "| NULL | NULL | back\\\\slash |",
    ]
    assert render(result, shown.replace(mode="line")) == (
        " name = a|b\ncount = 3\nnotes = two\nlines\n\n"
        " name = NULL\ncount = NULL\nnotes = back\\slash\n"
    )
    empty = Result(columns=["x"], types=["INTEGER"], rows=[])
    assert render(empty, "markdown") == "| x |\n| ---: |\n"
    assert render(empty, "line") == ""
    nothing = Result(columns=[], types=[], rows=[])
    assert render(nothing, "markdown") == render(nothing, "line") == ""
    with pytest.raises(ValueError, match="unknown output format 'yaml'"):
        render(empty, "yaml")
