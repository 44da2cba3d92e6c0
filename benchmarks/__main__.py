"""Run the benchmarks side by side and write the results into docs/performance.md.

Usage: python -m benchmarks [--runs N] [--jobs N] [--no-write]

Every contender is a whole process, started the same way, against the same emulator process
on loopback (pages pre-rendered and warmed before timing). Wall time and peak RSS come from
the OS (``os.wait4``). Medians of ``--runs`` runs are reported with the ratio to each floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- benchmark results: begin -->", "<!-- benchmark results: end -->"
TOKEN = "sandbox-do-token"
QUERY = "SELECT count(*), sum(total_datasources) FROM digitalocean.genai.indexing_jobs"


@dataclass
class Measurement:
    """Medians over the runs of one contender."""

    name: str
    seconds: float
    rss_mb: float
    output: str
    runs: list[float]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_once(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    output = process.stdout.read().decode()
    errors = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{errors}")
    return seconds, usage.ru_maxrss / 1024, output.strip()


def measure(name: str, command: list[str], env: dict[str, str], runs: int) -> Measurement:
    """Run ``command`` ``runs`` times; the median wall time and peak RSS."""
    times, memory, output = [], [], ""
    for _ in range(runs):
        seconds, rss, output = _run_once(command, env)
        times.append(seconds)
        memory.append(rss)
    return Measurement(name, statistics.median(times), statistics.median(memory), output, times)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"the emulator did not start at {url}")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print, do not update the docs")
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sqlprovider",
            "sandbox",
            "--port",
            str(port),
            "--jobs",
            str(args.jobs),
            "--no-rate-limit",  # the engine's speed is measured here, not the API's limits
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{base}/v2/gen-ai/indexing_jobs?per_page=1")
        env = dict(os.environ, SQLPROVIDER_DIGITALOCEAN_URL=base, DIGITALOCEAN_TOKEN=TOKEN)
        # As installed programs run: with their bytecode cached (some sandboxes turn that
        # off, which would charge every contender its compile time on every run).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        python = sys.executable
        engine = [python, "-m", "sqlprovider", "exec", "-o", "csv", QUERY]
        floor_a = [python, "-m", "benchmarks.floor_httpx", base, TOKEN]
        floor_b = [python, "-m", "benchmarks.floor_urllib3", base, TOKEN]
        _run_once(floor_b, env)  # warm: the emulator renders and caches every page once
        for command in (engine, floor_a):
            _run_once(command, env)  # and every contender's bytecode is compiled once
        scan = [
            measure("engine (sqlprovider exec)", engine, env, args.runs),
            measure("floor a: httpx async, 8 at a time", floor_a, env, args.runs),
            measure("floor b: urllib3, 8 threads, orjson", floor_b, env, args.runs),
        ]
        start_runs = max(args.runs * 2, 10)
        cold = [
            measure(
                'sqlprovider exec "SELECT 1"',
                [python, "-m", "sqlprovider", "exec", "SELECT 1"],
                env,
                start_runs,
            ),
            measure(
                'python -c "import duckdb, sqlglot, httpx, yaml"',
                [python, "-c", "import duckdb, sqlglot, httpx, yaml"],
                env,
                start_runs,
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)

    answers = {m.output.replace(",", " ").splitlines()[-1] for m in scan}
    report = _report(scan, cold, args, answers)
    print(report)
    if not args.no_write:
        _write(report)


def _report(
    scan: list[Measurement], cold: list[Measurement], args: argparse.Namespace, answers: set[str]
) -> str:
    engine, floor_a, floor_b = scan
    today = dt.date.today().isoformat()
    lines = [
        f"Measured {today} on {_machine()}; median of {args.runs} runs "
        f"({len(cold[0].runs)} for start-up), each a whole process.",
        "",
        f"### Paginated scan: `{QUERY}`",
        "",
        f"{args.jobs:,} jobs, 200 a page ({-(-args.jobs // 200)} pages) from the DigitalOcean "
        "emulator (pre-rendered pages, its own process) on loopback.",
        "",
        "| contender | seconds | vs floor a | vs floor b | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in scan:
        lines.append(
            f"| {m.name} | {m.seconds:.2f} | {m.seconds / floor_a.seconds:.2f}× | "
            f"{m.seconds / floor_b.seconds:.2f}× | {m.rss_mb:.0f} |"
        )
    agree = (
        "all contenders returned the same count and sum"
        if len(answers) == 1
        else f"ANSWERS DIFFER: {answers}"
    )
    lines += [
        "",
        f"Correctness: {agree}.",
        f"Targets: engine ≤ 1.0× floor a ({_met(engine.seconds <= floor_a.seconds)}), "
        f"≤ 1.3× floor b ({_met(engine.seconds <= 1.3 * floor_b.seconds)}), "
        f"peak RSS below floor a's ({_met(engine.rss_mb < floor_a.rss_mb)}).",
        "",
        "### CLI cold start",
        "",
        "| command | seconds | ratio |",
        "|---|---:|---:|",
        f"| {cold[0].name} | {cold[0].seconds:.3f} | {cold[0].seconds / cold[1].seconds:.2f}× |",
        f"| {cold[1].name} | {cold[1].seconds:.3f} | 1.00× |",
        "",
        f"Target: within 1.2× ({'met' if cold[0].seconds <= 1.2 * cold[1].seconds else 'missed'}).",
    ]
    return "\n".join(lines)


def _met(condition: bool) -> str:
    return "met" if condition else "missed"


def _write(report: str) -> None:
    text = PERFORMANCE_MD.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    PERFORMANCE_MD.write_text(f"{head}{BEGIN}\n{report}\n{END}{tail}")


if __name__ == "__main__":
    main()
