"""``sqlprovider demo``: start the bundled emulators and run real queries against them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO


def examples_dir() -> Path:
    """The example SQL files (the wheel's copy, else the source tree's docs/examples)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_examples"
    return installed if installed.is_dir() else package.parent.parent / "docs" / "examples"


def example(name: str) -> str:
    """An example file's SQL, with its placeholders at their defaults."""
    from sqlprovider.template import render

    return render((examples_dir() / name).read_text(encoding="utf-8"), {})


def demo_queries() -> list[tuple[str, str]]:
    """What the demo runs: titles and SQL."""
    across = example("failed_or_stuck.sql").strip().rstrip(";")
    return [
        (
            "Failed indexing jobs on DigitalOcean, newest first (every page, filtered by DuckDB)",
            "SELECT uuid, phase, status, total_datasources, created_at\n"
            "FROM digitalocean.genai.indexing_jobs\n"
            "WHERE status = 'INDEX_JOB_STATUS_FAILED'\n"
            "ORDER BY created_at DESC\n"
            "LIMIT 5",
        ),
        (
            "Why they failed: a dependent join, one data-source request per failed job",
            "SELECT j.uuid AS job, ds.data_source_uuid, ds.status, ds.error_msg\n"
            "FROM digitalocean.genai.indexing_jobs j\n"
            "JOIN digitalocean.genai.indexing_job_data_sources ds "
            "ON ds.indexing_job_uuid = j.uuid\n"
            "WHERE j.status = 'INDEX_JOB_STATUS_FAILED'\n"
            "ORDER BY j.created_at DESC, ds.data_source_uuid\n"
            "LIMIT 5",
        ),
        (
            "Failed or stuck jobs across all four platforms (docs/examples/failed_or_stuck.sql), "
            "counted",
            "SELECT platform, problem, count(*) AS jobs FROM (\n"
            f"{across}\n) GROUP BY ALL ORDER BY ALL",
        ),
        (
            "Failures per day on two platforms at once (docs/examples/failures_by_day.sql)",
            example("failures_by_day.sql").strip().rstrip(";"),
        ),
    ]


def run_demo(out: TextIO = sys.stdout, jobs: int = 1000) -> None:
    """Start the emulators on free loopback ports, run the demo's queries, stop them."""
    from sqlprovider.emulators.sandbox import SandboxOptions, base_url, environment, start_all
    from sqlprovider.output import render
    from sqlprovider.session import Session

    servers = start_all(port=0, options=SandboxOptions(jobs=jobs))
    try:
        for name, value in environment(servers).items():
            if not name.startswith("SQLPROVIDER_"):  # settings such as AMPERITY_TENANT
                os.environ.setdefault(name, value)
        session = Session(
            servers={s.name: base_url(s) for s in servers},
            auth={s.name: {"token": s.token} for s in servers if s.token},
        )
        try:
            for s in servers:
                out.write(f"emulator {s.name} listening on {s.url}\n")
            for title, sql in demo_queries():
                shown = sql if len(sql) < 600 else sql[: sql.index("\n") + 1] + "    ...\n"
                out.write(f"\n-- {title}\n{shown.rstrip()};\n")
                for result in session.execute(sql):
                    out.write(render(result, "table"))
                    stats = result.stats
                    out.write(
                        f"({stats.get('requests', 0):.0f} requests, "
                        f"{stats.get('rows_loaded', 0):.0f} rows loaded, "
                        f"{stats.get('seconds', 0):.2f} s)\n"
                    )
        finally:
            session.close()
    finally:
        for server in servers:
            server.stop()
