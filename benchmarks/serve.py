"""A tiny loopback HTTP server, in a thread of the benchmark process, for data the emulator
does not serve the way a contender needs it.

* ``GET /all.json``: every job as one JSON array (what shillelagh's generic JSON adapter
  reads); ``/small.json``: the first 1,000 (to warm it).
* ``GET /v2/gen-ai/indexing_jobs?page=N&per_page=M``: DigitalOcean-shaped pages of ``total``
  jobs, made by cycling the given jobs; copy ``k > 0`` of a job gets ``k`` as the first eight
  hex digits of its uuid, so every row is distinct. It lets the memory benchmark list a million
  jobs without building a million-job emulator (the emulator takes ~11 s and ~1.1 GB per
  100,000 jobs it seeds).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UUID_PREFIX = b'{"uuid":"'


class DataServer:
    """Serves ``jobs`` (each one job's JSON) on 127.0.0.1 until :meth:`stop`."""

    def __init__(self, jobs: list[bytes], total: int) -> None:
        if not all(job.startswith(UUID_PREFIX) for job in jobs[:10]):
            raise ValueError("each job's JSON must start with its uuid")
        self.jobs = jobs
        self.total = total
        self.document = b"[" + b",".join(jobs) + b"]"
        self.small = b"[" + b",".join(jobs[:1000]) + b"]"
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the emulator serves

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def do_GET(self) -> None:
                self._answer(with_body=True)

            def _answer(self, with_body: bool) -> None:
                url = urlsplit(self.path)
                if url.path == "/all.json":
                    body = owner.document
                elif url.path == "/small.json":
                    body = owner.small
                elif url.path == "/v2/gen-ai/indexing_jobs":
                    query = parse_qs(url.query)
                    page = int(query.get("page", ["1"])[0])
                    per_page = min(int(query.get("per_page", ["20"])[0]), 200)
                    body = owner.page(page, per_page)
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def page(self, page: int, per_page: int) -> bytes:
        """One page of the ``total`` jobs, in the emulator's envelope."""
        pages = max(1, -(-self.total // per_page))
        start, stop = (page - 1) * per_page, min(page * per_page, self.total)
        count = len(self.jobs)
        chunk = []
        for index in range(start, stop):
            copy, job = divmod(index, count)
            base = self.jobs[job]
            if copy:
                base = UUID_PREFIX + b"%08x" % copy + base[len(UUID_PREFIX) + 8 :]
            chunk.append(base)
        meta = b'"meta":{"page":%d,"pages":%d,"total":%d}}' % (page, pages, self.total)
        return b'{"jobs":[' + b",".join(chunk) + b'],"links":{},' + meta

    def start(self) -> DataServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
