"""Starts the contenders, so that their peak RSS is their own.

A process forked from the benchmark (which holds the jobs and the data server, over 1 GB)
would inherit that high-water mark: Linux carries the parent's peak into the child's
``ru_maxrss`` across fork and exec. This small process is started first, and every contender
is forked from it instead.

Protocol: one JSON object a line on stdin, ``{"command": [...], "env": {...}}``; one a line
on stdout, ``{"seconds", "rss_mb", "status", "stdout", "stderr"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        process = subprocess.Popen(
            request["command"], env=request["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert process.stdout is not None and process.stderr is not None
        output = process.stdout.read().decode()
        errors = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        answer = {
            "seconds": seconds,
            "rss_mb": usage.ru_maxrss / 1024,
            "status": status,
            "stdout": output,
            "stderr": errors,
        }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
