"""A fresh Spark driver in its own process (tests/spark/driver.py): issue 15's example runs
as written with Spark's defaults (filter pushdown off) and with pushdown on, and a token
given as an option appears in none of Spark's plan strings, the driver's log at INFO, or
the data of its UI (read from the UI's REST API on loopback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import PROVIDER_ENV
from tests.spark.conftest import TOKEN, Emulator
from tests.spark.test_spark_reads import JOBS, engine

ROOT = Path(__file__).resolve().parents[2]


def shown_rows(text: str) -> list[tuple[str, int]]:
    """The body rows of what ``DataFrame.show()`` printed."""
    rows = re.findall(r"^\|([^|]*)\|([^|]*)\|$", text, flags=re.M)
    return [(key.strip(), int(count)) for key, count in rows[1:]]


def run_driver(emulator: Emulator, tmp_path: Path) -> tuple[dict[str, Any], str, str]:
    """What the driver found (its JSON line), its stderr and its log file."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SQLPROVIDER_") and k not in PROVIDER_ENV}  # fmt: skip
    env.update(
        DIGITALOCEAN_TOKEN=TOKEN,  # the example names no credential: the cluster's env has it
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    log = tmp_path / "driver.log"
    ran = subprocess.run(
        [sys.executable, "-m", "tests.spark.driver", emulator.url, TOKEN, str(log)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    return json.loads(ran.stdout.splitlines()[-1]), ran.stderr, log.read_text(encoding="utf-8")


def test_a_fresh_driver_runs_the_example_and_never_shows_the_token(
    digitalocean: Emulator, tmp_path: Path
) -> None:
    found, stderr, log = run_driver(digitalocean, tmp_path)
    expected = [
        (key if len(key) <= 20 else key[:17] + "...", count)  # as show() cuts them
        for key, count in engine(
            digitalocean,
            f"SELECT knowledge_base_uuid, count(*) FROM {JOBS} "
            "WHERE status = 'INDEX_JOB_STATUS_FAILED' GROUP BY 1",
        )
    ]
    off, on = shown_rows(found["example switch off"]), shown_rows(found["example switch on"])
    assert len(off) == min(20, len(expected)) and expected
    assert set(off) <= set(expected) and set(on) <= set(expected)  # show(): 20 groups
    assert len(on) == len(off)
    counted = engine(digitalocean, f"SELECT count(*) FROM {JOBS} WHERE phase > 'B'")[0][0]
    assert found["count"] == found["sql count"] == counted
    # Each place was really read: the plans name the source, the log is at INFO, and the
    # UI's SQL data holds the view's options, the token among them, redacted.
    assert all("sqlprovider" in text for text in found["plans"].values() if "explain" in text)
    assert "BatchScan sqlprovider" in found["plans"]["explain formatted"]
    assert len(re.findall(r" INFO ", log)) > 100
    ui = json.dumps(found["ui"])
    assert "auth.digitalocean.token -> *********(redacted)" in ui
    for place in (json.dumps(found), stderr, log):
        assert TOKEN not in place
