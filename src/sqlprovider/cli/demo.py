"""``sqlprovider demo``: start the bundled emulators and run real queries against them."""

from __future__ import annotations

import os
import sys
from typing import TextIO

DEMO_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Failed indexing jobs, newest first (every page of the list, filtered by DuckDB)",
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
        "JOIN digitalocean.genai.indexing_job_data_sources ds ON ds.indexing_job_uuid = j.uuid\n"
        "WHERE j.status = 'INDEX_JOB_STATUS_FAILED'\n"
        "ORDER BY j.created_at DESC, ds.data_source_uuid\n"
        "LIMIT 5",
    ),
    (
        "Jobs per knowledge base and phase, joined across two resources",
        "SELECT kb.name AS knowledge_base, j.phase, count(*) AS jobs,\n"
        "       sum(j.total_tokens) AS tokens\n"
        "FROM digitalocean.genai.indexing_jobs j\n"
        "JOIN digitalocean.genai.knowledge_bases kb ON kb.uuid = j.knowledge_base_uuid\n"
        "GROUP BY ALL ORDER BY jobs DESC\n"
        "LIMIT 8",
    ),
)


def run_demo(out: TextIO = sys.stdout, jobs: int = 1000) -> None:
    """Start the emulators on free loopback ports, run DEMO_QUERIES, stop the emulators."""
    from sqlprovider.cli.output import render
    from sqlprovider.emulators.sandbox import SandboxOptions, base_url, environment, start_all
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
            for title, sql in DEMO_QUERIES:
                out.write(f"\n-- {title}\n{sql};\n")
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
