"""Every command line of the ```sh blocks of README.md and docs/*.md runs as a subprocess
against the emulators, or is listed below as not run, with the reason.

A command runs with ``sh`` as written, in an environment holding the exports ``sqlprovider
sandbox`` prints for the emulators (docs/emulators.md); ``sqlprovider>`` lines after a
``sqlprovider shell`` command are what is typed into it. Placeholders (``--var uuid=...``)
are replaced by real ids. Every command is matched by exactly one case, which checks what it
printed; a command without a case, or a line of no known kind, fails.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.sandbox import EMULATORS, environment_lines
from tests.docs.blocks import ROOT, blocks_of
from tests.docs.conftest import BIN, Emulators, run_sh

PROMPT = "sqlprovider> "
EXAMPLES = ROOT / "docs" / "examples"


@dataclass(frozen=True)
class Command:
    """One command line of a ```sh block, and the lines typed into it."""

    page: str
    block: int  # the line of the block's fence
    line: int
    text: str  # as written, comment included
    stdin: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def command(self) -> str:
        """The command without its trailing ``# comment``."""
        return re.sub(r"\s+#\s.*$", "", self.text).strip()


def commands() -> list[Command]:
    found: list[Command] = []
    for block in blocks_of("sh"):
        for number, line in enumerate(block.text.splitlines(), block.line + 1):
            if not line.strip():
                continue
            if line.startswith(PROMPT):  # typed into the shell the line before started
                last = found[-1]
                assert last.command.endswith("sqlprovider shell"), f"{block.page}:{number}"
                typed = last.stdin + line.removeprefix(PROMPT) + "\n"
                found[-1] = Command(last.page, last.block, last.line, last.text, typed)
                continue
            found.append(Command(block.page, block.line, number, line))
    return found


COMMANDS = commands()


# -- not run ---------------------------------------------------------------------------------

SANDBOX_ON_8080 = (
    "serves on the fixed ports 8080-8083 until Ctrl-C, and another process of the test machine "
    "may hold them; the same command on free ports, `sqlprovider sandbox --port 0` "
    "(docs/emulators.md), is run"
)
# (page, the command without its comment: a regular expression) → why it is not run
NOT_RUN: dict[tuple[str, str], str] = {
    ("README.md", r"make demo"): (
        "installs the package and every extra into .venv from PyPI (no network in tests) "
        "before it runs `sqlprovider demo`, which tests/e2e/test_errors.py runs"
    ),
    ("README.md", r"make test"): "runs this very test suite, with lint and type checks",
    ("README.md", r"\.venv/bin/sqlprovider sandbox"): SANDBOX_ON_8080,
    ("docs/emulators.md", r"sqlprovider sandbox"): SANDBOX_ON_8080,
    ("docs/emulators.md", r"sqlprovider sandbox --jobs 100000"): (
        "seeds 100,000 jobs (about 6 s) and serves on port 8080"
    ),
    ("README.md", r"export \w+=.*"): (
        "credentials and hosts of the real APIs (placeholders); the exec lines after them "
        "run with the sandbox's exports instead"
    ),
    ("docs/python-api.md", r"pip install 'sqlprovider\[frames\]'"): (
        "installs from PyPI; the frame methods run in tests/unit/test_dbapi.py"
    ),
    # Not run, but compared with what `sqlprovider sandbox` prints: see below.
    ("docs/emulators.md", r"export \w+=.*"): "checked: what `sqlprovider sandbox` prints",
}
# Run with a change: (page, command) → (the change, why).
ADAPTED: dict[tuple[str, str], tuple[str, str]] = {
    ("docs/emulators.md", "sqlprovider sandbox --no-rate-limit"): (
        " --port 0",
        "the default port 8080 may be taken on a test machine",
    ),
    ("docs/scale-out.md", "pip install 'sqlprovider[spark]'"): (
        " --no-index --dry-run",
        "no network in tests: pip resolves the extra against what is installed, sends nothing",
    ),
}


def not_run(command: Command) -> str | None:
    reasons = [
        why
        for (page, pattern), why in NOT_RUN.items()
        if page == command.page and re.fullmatch(pattern, command.command)
    ]
    assert len(reasons) <= 1, f"{command.where}: several NOT_RUN entries match"
    return reasons[0] if reasons else None


def test_every_not_run_entry_names_a_command_of_the_docs() -> None:
    for page, pattern in NOT_RUN:
        assert any(c.page == page and re.fullmatch(pattern, c.command) for c in COMMANDS), (
            f"{page}: no command matches {pattern}"
        )
    for page, command in ADAPTED:
        assert any(c.page == page and c.command == command for c in COMMANDS), command
    assert len(NOT_RUN) <= 8  # the list stays short


# -- what each command must print ------------------------------------------------------------


@dataclass
class Ran:
    result: subprocess.CompletedProcess[str]
    emulators: Emulators

    @property
    def out(self) -> str:
        return self.result.stdout

    def csv(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.out)))

    def ok(self) -> None:
        assert (self.result.returncode, self.result.stderr) == (0, ""), self.result


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the boxed tables in ``text``."""
    return [
        [c.strip() for c in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│ ")
    ]


def onyx_statuses(emulators: Emulators) -> list[dict[str, Any]]:
    response = emulators.request(
        "onyx", "POST", "/manage/admin/connector/indexing-status", json={"get_all_connectors": True}
    )
    response.raise_for_status()
    return [row for group in response.json() for row in group["indexing_statuses"]]


def check_shell_readme(ran: Ran) -> None:
    ran.ok()
    rows = table_rows(ran.out)
    resources = [
        "indexing_status",
        "indexing_summary",
        "failed_indexing_status",
        "index_attempts",
        "connectors",
    ]
    assert [r[0] for r in rows[1:6]] == resources  # row 0 is the header
    assert rows[6] == ["source", "count_star()"]
    failed = Counter(
        r["source"] for r in onyx_statuses(ran.emulators) if r.get("last_status") == "failed"
    )
    assert failed and {r[0]: int(r[1]) for r in rows[7:]} == dict(failed)


def check_five_jobs(ran: Ran) -> None:
    ran.ok()
    rows = ran.csv()
    jobs = {j["uuid"]: j["phase"] for j in ran.emulators.jobs()}
    assert len(rows) == 5 and all(jobs[r["uuid"]] == r["phase"] for r in rows)


def check_one_job_as_json(ran: Ran) -> None:
    ran.ok()
    [job] = json.loads(ran.out)
    assert job["uuid"] == ran.emulators.jobs()[0]["uuid"]  # the id given as --var uuid


def check_dry_run(ran: Ran) -> None:
    ran.ok()
    url = ran.emulators.url("digitalocean")
    for uuid in ("a", "b"):
        assert f"  GET {url}/v2/gen-ai/indexing_jobs/{uuid}\n    Authorization: Bearer ***\n" in (
            ran.out
        )
    assert ran.emulators.requests("digitalocean") == []  # nothing sent


def check_failed_or_stuck(ran: Ran) -> None:
    ran.ok()
    rows = ran.csv()
    assert list(rows[0]) == [
        "platform",
        "job_id",
        "state",
        "problem",
        "started",
        "finished",
        "items",
        "detail",
    ]
    assert {r["platform"] for r in rows} == {"digitalocean", "onyx", "amperity", "openverse"}


def days(since: date, until: date) -> list[str]:
    return [str(since + timedelta(n)) for n in range((until - since).days)]


def failures_by_day(since: date, until: date) -> Callable[[Ran], None]:
    """report.sql is docs/examples/failures_by_day.sql: one row a day from since to until."""

    def check(ran: Ran) -> None:
        ran.ok()
        rows = ran.csv()
        assert [r["day"] for r in rows] == days(since, until)
        assert sum(int(r["indexing_failed"]) for r in rows) > 0

    return check


def check_two_results(ran: Ran) -> None:
    ran.ok()
    assert ran.out == "1\n1\n2\n2\n"  # csv (not a terminal): a header and a row each


def check_json_mode_on_stdin(ran: Ran) -> None:
    ran.ok()
    rows = json.loads(ran.out)
    jobs = {j["uuid"] for j in ran.emulators.jobs()}
    assert len(rows) == 2 and {r["uuid"] for r in rows} <= jobs  # LIMIT 2, any two


def check_spark_extra(ran: Ran) -> None:
    """The extra exists and brings PySpark and pyarrow (tests/spark runs the data source)."""
    assert ran.result.returncode == 0, ran.result
    assert "does not provide the extra" not in ran.out + ran.result.stderr
    for needed in ("pyspark", "pyarrow"):
        assert re.search(
            rf"Requirement already satisfied: {needed}\b.*sqlprovider\[spark\]", ran.out
        )


DEFAULT = failures_by_day(date(2025, 5, 25), date(2025, 6, 1))
MAY = failures_by_day(date(2025, 5, 1), date(2025, 6, 1))


@dataclass(frozen=True)
class Case:
    """What one command must print; ``ids`` replaces placeholders of the command."""

    check: Callable[[Ran], None]
    ids: Callable[[Emulators], dict[str, str]] | None = None


def first_job(emulators: Emulators) -> dict[str, str]:
    return {"--var uuid=...": f"--var uuid={emulators.jobs()[0]['uuid']}"}


CASES: dict[str, Case] = {
    ".venv/bin/sqlprovider shell": Case(check_shell_readme),
    '.venv/bin/sqlprovider exec "SELECT uuid, phase FROM digitalocean.genai.indexing_jobs '
    'LIMIT 5"': Case(check_five_jobs),
    '.venv/bin/sqlprovider exec -o json "SELECT * FROM digitalocean.genai.indexing_jobs WHERE '
    "uuid = '{{ uuid }}'\" --var uuid=...": Case(check_one_job_as_json, first_job),
    '.venv/bin/sqlprovider exec --dry-run "SELECT * FROM digitalocean.genai.indexing_jobs '
    "WHERE uuid IN ('a', 'b')\"": Case(check_dry_run),
    ".venv/bin/sqlprovider exec -f docs/examples/failed_or_stuck.sql --var since=2025-05-01 "
    "--var until=2025-06-01": Case(check_failed_or_stuck),
    "sqlprovider exec -f report.sql": Case(DEFAULT),
    "sqlprovider exec -f - < report.sql": Case(DEFAULT),
    "sqlprovider exec < report.sql": Case(DEFAULT),
    'sqlprovider exec "SELECT 1; SELECT 2"': Case(check_two_results),
    "sqlprovider exec -f report.sql --var since=2025-05-01 --var until=2025-06-01": Case(MAY),
    "sqlprovider exec -f report.sql --vars params.yaml --var until=2025-06-01": Case(MAY),
    "printf '.mode json\\nSELECT uuid FROM digitalocean.genai.indexing_jobs LIMIT 2;\\n' | "
    "sqlprovider shell": Case(check_json_mode_on_stdin),
    "pip install 'sqlprovider[spark]'": Case(check_spark_extra),
}
SANDBOX = re.compile(r"sqlprovider sandbox( .*)?")
RUN = [c for c in COMMANDS if not not_run(c) and not SANDBOX.fullmatch(c.command)]


def test_every_command_has_a_case_and_every_case_a_command() -> None:
    assert sorted({c.command for c in RUN}) == sorted(CASES)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the commands of docs/scripts.md run: report.sql is
    docs/examples/failures_by_day.sql, params.yaml gives since."""
    (tmp_path / "report.sql").write_text((EXAMPLES / "failures_by_day.sql").read_text())
    (tmp_path / "params.yaml").write_text("since: 2025-05-01\n")
    return tmp_path


@pytest.mark.parametrize("command", RUN, ids=[c.where for c in RUN])
def test_every_command_runs_against_the_emulators(
    command: Command, sandbox: Emulators, folder: Path
) -> None:
    case = CASES[command.command]
    line = command.command
    for placeholder, value in (case.ids(sandbox) if case.ids else {}).items():
        assert placeholder in line
        line = line.replace(placeholder, value)
    # Paths of the README are relative to the repository; scripts.md's to the script's folder.
    line += ADAPTED.get((command.page, command.command), ("", ""))[0]
    cwd = ROOT if command.page == "README.md" else folder
    sandbox.clear_logs()
    case.check(Ran(run_sh(line, sandbox, cwd, command.stdin), sandbox))


# -- sqlprovider sandbox -----------------------------------------------------------------------


class Sandbox:
    """``sqlprovider sandbox ...`` running in the background, and what it printed."""

    def __init__(self, command: str) -> None:
        argv = shlex.split(command)
        argv[0] = str(BIN / argv[0])
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    def exports(self) -> dict[str, str]:
        """The ``export`` lines it prints before it says it serves."""
        assert self.process.stdout is not None
        found: dict[str, str] = {}
        for line in self.process.stdout:
            if line.startswith("# Ctrl-C"):
                return found
            if line.startswith("export "):
                name, value = line.removeprefix("export ").strip().split("=", 1)
                found[name] = value
        raise AssertionError(f"sandbox ended before serving: {self.process.wait()}")

    def stop(self) -> int:
        """SIGTERM, as the docs say it stops on; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    """The sandbox commands of docs/emulators.md that run, started at once (they seed
    while the others do)."""
    started: dict[str, Sandbox] = {}
    for command in COMMANDS:
        if SANDBOX.fullmatch(command.command) and not not_run(command):
            change, _ = ADAPTED.get((command.page, command.command), ("", ""))
            started[command.command] = Sandbox(command.command + change)
    yield started
    for running in started.values():
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait()
        assert running.process.stdout is not None
        running.process.stdout.close()


def amperity_answers(exports: dict[str, str], count: int) -> list[int]:
    """Statuses of ``count`` requests in a row to the Amperity emulator (10 a second)."""
    headers = {
        "Authorization": f"Bearer {exports['AMPERITY_TOKEN']}",
        "amperity-tenant": exports["AMPERITY_TENANT"],
        "api-version": "2024-04-01",
    }
    params = {"created_from": "2025-05-31T00:00:00Z", "created_to": "2025-05-31T00:10:00Z"}
    with httpx.Client() as client:
        url = exports["SQLPROVIDER_AMPERITY_URL"] + "/ingest/jobs"
        return [client.get(url, params=params, headers=headers).status_code for _ in range(count)]


def test_sandbox_commands_print_exports_and_serve(
    sandboxes: dict[str, Sandbox], sandbox: Emulators
) -> None:
    assert sorted(sandboxes) == [
        "sqlprovider sandbox --no-rate-limit",
        "sqlprovider sandbox --port 0",
    ]
    limited = sandboxes["sqlprovider sandbox --port 0"].exports()
    unlimited = sandboxes["sqlprovider sandbox --no-rate-limit"].exports()
    for exports in (limited, unlimited):
        assert list(exports) == list(sandbox.env)  # the same variables, in the same order
        assert {k: v for k, v in exports.items() if "_URL" not in k} == {
            k: v for k, v in sandbox.env.items() if "_URL" not in k
        }
        assert exports["SQLPROVIDER_ONYX_URL"].endswith("/api")
    # the APIs' rate limits hold, unless lifted (Amperity: 10 requests a second)
    assert 429 in amperity_answers(limited, 30)
    assert set(amperity_answers(unlimited, 30)) == {200}
    assert [s.stop() for s in sandboxes.values()] == [0, 0]


def test_the_exports_docs_emulators_md_shows_are_what_sandbox_prints() -> None:
    """docs/emulators.md shows the exports of `sqlprovider sandbox` on its default ports."""
    [block] = [b for b in blocks_of("sh") if b.text.startswith("export SQLPROVIDER_")]
    # Servers never started: only their names and ports make the lines.
    servers = [
        EmulatorServer(Starlette(), port=8080 + n, name=name) for n, name in enumerate(EMULATORS)
    ]
    assert block.text.splitlines() == environment_lines(servers)
