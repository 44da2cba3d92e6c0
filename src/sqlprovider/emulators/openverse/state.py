"""The emulated ingestion server: its in-memory task tracker, the tasks it runs against the
Elasticsearch indices and aliases (``cluster.py``), and a seeded history of weekly data
refreshes.

Tasks follow the upstream code (``tasks.py``, ``indexer.py``): checks the real server makes
before any slow work run when the task is posted; the rest of a task takes ``task_seconds``
on the injected clock and its effect is applied, against the indices as they are then, when
it finishes.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from sqlprovider.emulators.openverse.cluster import Cluster, valid_name

MEDIA_TYPES = ("audio", "image", "model_3d")  # constants/media_types.py
ACTIONS = (  # TaskTypes, in declaration order
    "REINDEX",
    "POINT_ALIAS",
    "INGEST_UPSTREAM",
    "PROMOTE",
    "UPDATE_INDEX",
    "DELETE_INDEX",
    "CREATE_AND_POPULATE_FILTERED_INDEX",
)
SEEDED_MODELS = ("image", "audio")  # the media types the data refreshes run for
DEFAULT_BASE_URL = "http://localhost:8001"

_HISTORY_END = datetime(2025, 6, 1, tzinfo=UTC).timestamp()
_WEEK = 7 * 86400.0
_FILTERED_SHARE = 0.985  # documents left once sensitive terms are filtered out
# Upstream, only these report progress as they go; the others set 100 when they end.
_GRADUAL = frozenset({"REINDEX", "INGEST_UPSTREAM", "UPDATE_INDEX", "PROMOTE"})
_USES_WORKERS = frozenset({"REINDEX", "INGEST_UPSTREAM"})


@dataclass
class OpenverseConfig:
    """What the emulator serves and how it behaves.

    Attributes:
        tasks: seeded past tasks (a history of data refreshes, some failed, some rejected
            as bad requests); all are finished.
        indices: indices kept per media type (the live one and the newest ones it
            replaced), each with its ``-filtered`` twin; older ones the seeded refreshes
            deleted.
        seed: the same seed gives byte-identical seeded data and task ids.
        task_seconds: how long a task posted through the API stays active; 0 ends it
            while the POST is answered (``Successfully completed task``, or 400/500).
        es_status: Elasticsearch cluster health for ``GET /?check_deps=true``; None:
            unreachable.
        databases_down: databases (``upstream``, ``api``) the health check cannot reach.
        send_callbacks: POST to a task's ``callback_url`` when it completes.
        clock: seconds, monotonic; tests inject one to move time.
    """

    tasks: int = 200
    indices: int = 3
    seed: int = 42
    task_seconds: float = 5.0
    es_status: str | None = "green"
    databases_down: tuple[str, ...] = ()
    send_callbacks: bool = True
    clock: Callable[[], float] = field(default=time.monotonic)


@dataclass
class Task:
    """One task the tracker knows, with the shared values the upstream task process writes."""

    task_id: str
    model: str
    action: str
    params: dict[str, Any]
    start_timestamp: float
    duration: float = 0.0
    started_at: float = 0.0  # clock reading when posted
    seeded: bool = False
    done: bool = False
    progress: float = 0.0
    finish_timestamp: float = 0.0
    active_workers: bool = False
    is_bad_request: bool = False
    target: str = ""  # the index the task creates or fills
    source_documents: int = 0  # what a filtered index copies


def render(value: Any) -> bytes:
    """JSON as falcon writes it (``json.dumps`` defaults, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False).encode()


def time_fmt(timestamp: float) -> str | None:
    """``str(datetime.utcfromtimestamp(ts))`` as the tracker shows it; None for 0."""
    if timestamp == 0:
        return None
    return str(datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None))


def _post_callback(url: str) -> None:
    """The upstream ``ping_callback``: a bodyless POST whose failure is only logged."""
    try:
        httpx.post(url, timeout=10)
    except Exception:  # the real server logs "Failed to send callback!" and goes on
        return


class OpenverseState:
    """The task tracker and the indices behind one emulated ingestion server."""

    def __init__(self, config: OpenverseConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        self.cluster = Cluster(self.rng)
        self.indices = self.cluster.indices  # name → index, in creation order
        self.aliases = self.cluster.aliases  # alias → index name
        self.tasks: dict[str, Task] = {}  # in the order they were added, as upstream
        self.worker_task: str | None = None  # whose indexer workers are registered
        self.callbacks: list[tuple[str, str]] = []  # (task id, url) sent
        self.send_callback: Callable[[str], None] = _post_callback
        self._running: list[Task] = []
        self._live: list[Task] = []
        self._seed()
        seeded = sorted(self.tasks.values(), key=lambda t: t.finish_timestamp)
        # Seeded tasks never change: rendered once, GET /task merges live ones in.
        self._seeded_rendered = [(t.finish_timestamp, render(self._view(t))) for t in seeded]

    def new_hex(self) -> str:
        """A ``uuid4().hex`` from the seeded generator."""
        return uuidlib.UUID(int=self.rng.getrandbits(128), version=4).hex

    def stat(self, name: str) -> dict[str, Any]:
        """The ``Stat`` of an index or alias (LookupError: the upstream 500)."""
        with self.lock:
            self._advance()
            exists, is_alias, alt_names = self.cluster.stat(name)
        return {"exists": exists, "is_alias": is_alias, "alt_names": alt_names}

    # -- tasks posted through the API -----------------------------------------------------

    def create_task(self, body: dict[str, Any]) -> Task:
        """Start a task from a validated request body; it may end at once (see ``_start``)."""
        with self.lock:
            self._advance()
            task_id = self.new_hex()
            params = {
                "index_suffix": body.get("index_suffix", task_id),
                "alias": body.get("alias"),
                "force_delete": body.get("force_delete", False),
                "origin_index_suffix": body.get("origin_index_suffix"),
                "destination_index_suffix": body.get("destination_index_suffix"),
                "since_date": body.get("since_date"),
                "callback_url": body.get("callback_url"),
            }
            task = Task(
                task_id,
                body["model"],
                body["action"],
                params,
                start_timestamp=time.time(),
                duration=max(0.0, self.config.task_seconds),
                started_at=self.config.clock(),
            )
            self.tasks[task_id] = task
            self._live.append(task)
            self._start(task)
            if not task.done:
                self._running.append(task)
                self._advance()
            return task

    def _end(
        self,
        task: Task,
        *,
        wall: float | None = None,
        progress: float | None = None,
        finished: bool = True,
        bad_request: bool = False,
        callback: bool = False,
    ) -> None:
        """End a task. ``finished=False`` is an exception in the task process: upstream
        never sets ``finish_time`` then, so it stays 0."""
        task.done = True
        if progress is not None:
            task.progress = progress
        if finished:
            task.finish_timestamp = wall if wall is not None else time.time()
        task.is_bad_request = task.is_bad_request or bad_request
        if callback:
            url = task.params.get("callback_url")
            if isinstance(url, str) and url:
                self.callbacks.append((task.task_id, url))
                if self.config.send_callbacks:
                    threading.Thread(target=self.send_callback, args=(url,), daemon=True).start()

    def _start(self, task: Task) -> None:
        """What the task process does before its slow part; may end the task at once."""
        params = task.params
        if task.action in _USES_WORKERS:
            suffix = params["index_suffix"] or self.new_hex()  # indexer.reindex
            task.target = f"{task.model}-{suffix}"
            if self.cluster.taken(task.target) or not valid_name(task.target):
                self._end(task, finished=False)  # es.indices.create raises
                return
            self.cluster.create(task.target, task.model, 0)
            task.active_workers = True
            if self.worker_task is not None:
                # register_indexing_job refuses (another job's workers are RUNNING): the
                # scheduler returns without assigning work and active_workers stays set.
                self._end(task)
                return
            self.worker_task = task.task_id
        elif task.action == "CREATE_AND_POPULATE_FILTERED_INDEX":
            origin = params["origin_index_suffix"]
            source = f"{task.model}-{origin}" if origin else task.model
            suffix = params["destination_index_suffix"] or self.new_hex()
            task.target = f"{task.model}-{suffix}-filtered"
            if self.cluster.taken(task.target) or not valid_name(task.target):
                self._end(task, finished=False)
                return
            self.cluster.create(task.target, task.model, 0)
            real = self.aliases.get(source, source)
            if real not in self.indices:
                self._end(task, finished=False)  # es.reindex: index_not_found; dest stays
                return
            task.source_documents = int(self.indices[real].documents * _FILTERED_SHARE)
        elif task.action == "DELETE_INDEX":
            self._delete_index(task, apply=False)

    def _delete_index(self, task: Task, apply: bool, wall: float | None = None) -> None:
        """``indexer.delete_index``; ``apply=False`` only ends the task if it is refused."""
        params = task.params
        alias = params["alias"]
        target = alias if alias is not None else f"{task.model}-{params['index_suffix']}"
        try:
            exists, is_alias, alt_names = self.cluster.stat(target)
        except LookupError:
            self._end(task, wall=wall, finished=False)
            return
        if not exists:  # bad request, yet it falls through to progress 100 and the callback
            self._end(task, wall=wall, progress=100.0, bad_request=True, callback=True)
            return
        if is_alias and not params["force_delete"]:
            self._end(task, wall=wall, bad_request=True)  # alias without force_delete
            return
        if not is_alias and alt_names:
            self._end(task, wall=wall, bad_request=True)  # index still has aliases
            return
        if apply:
            self.cluster.delete(alt_names if isinstance(alt_names, str) else target)
            self._end(task, wall=wall, progress=100.0, callback=True)

    def _point_alias(self, task: Task) -> str:
        """``indexer.point_alias`` (local environment: no wait for green health):
        ``ok``, ``return`` (the alias is an index) or ``raise`` (an ES error)."""
        dest = f"{task.model}-{task.params['index_suffix']}"
        alias = task.params["alias"]
        try:
            exists, is_alias, current = self.cluster.stat(alias)
        except LookupError:
            return "raise"
        if exists and not is_alias:
            return "return"
        if exists and current == dest:
            return "ok"  # already mapped
        if dest not in self.indices or not valid_name(alias):
            return "raise"
        self.aliases[alias] = dest  # created, or moved off the old index atomically
        return "ok"

    def _finish(self, task: Task) -> None:
        """The rest of the task, once its ``task_seconds`` have passed."""
        wall = task.start_timestamp + task.duration
        action = task.action
        if action in _USES_WORKERS:
            documents = self.cluster.next_documents(task.model)
            if task.target in self.indices:
                self.indices[task.target].documents = documents
            else:  # the workers' bulk writes create it again
                self.cluster.create(task.target, task.model, documents)
            task.active_workers = False
            if self.worker_task == task.task_id:
                self.worker_task = None
            self._end(task, wall=wall, progress=100.0, callback=True)
        elif action == "CREATE_AND_POPULATE_FILTERED_INDEX":
            if task.target in self.indices:
                self.indices[task.target].documents = task.source_documents
            else:
                self.cluster.create(task.target, task.model, task.source_documents)
            self._end(task, wall=wall, progress=100.0, callback=True)
        elif action in ("POINT_ALIAS", "PROMOTE"):
            outcome = self._point_alias(task)
            # PROMOTE's table promotion already set progress to 100 before the alias step.
            progress = 100.0 if outcome == "ok" or action == "PROMOTE" else None
            self._end(
                task,
                wall=wall,
                progress=progress,
                finished=outcome != "raise",
                callback=outcome == "ok",
            )
        elif action == "DELETE_INDEX":
            self._delete_index(task, apply=True, wall=wall)
        else:  # UPDATE_INDEX: bulk writes create the index if it is missing
            name = f"{task.model}-{task.params['index_suffix']}"
            if name in self.indices:
                self.indices[name].documents += self.rng.randrange(100, 5_000)
            elif valid_name(name):
                self.cluster.create(name, task.model, self.rng.randrange(100, 5_000))
            self._end(task, wall=wall, progress=100.0, callback=True)

    def _advance(self) -> None:
        """Finish, in the order they end, the tasks whose time is up."""
        if not self._running:
            return
        now = self.config.clock()
        due = [t for t in self._running if t.started_at + t.duration <= now]
        due.sort(key=lambda t: t.started_at + t.duration)
        for task in due:
            self._running.remove(task)
            self._finish(task)

    def clear_worker_state(self) -> None:
        """``DELETE /state``: forget the registered indexer workers."""
        with self.lock:
            self.worker_task = None

    # -- what the tracker shows --------------------------------------------------------------

    def _view(self, task: Task) -> dict[str, Any]:
        """``get_task_status``: the task as the API shows it now."""
        active = not task.done
        progress = task.progress
        if active and task.action in _GRADUAL and task.duration > 0:
            elapsed = self.config.clock() - task.started_at
            progress = 100.0 * min(max(elapsed, 0.0) / task.duration, 0.9999)
        finish = task.finish_timestamp
        return {
            "task_id": task.task_id,
            "active": active,
            "model": task.model,
            "action": task.action,
            "progress": progress,
            "start_timestamp": task.start_timestamp,
            "start_time": time_fmt(task.start_timestamp),
            "finish_timestamp": finish,
            "finish_time": time_fmt(finish),
            "active_workers": task.active_workers,
            "error": progress < 100 and not active,
            "is_bad_request": task.is_bad_request,
        }

    def status(self, task_id: str) -> dict[str, Any] | None:
        """One task's status, or None."""
        with self.lock:
            self._advance()
            task = self.tasks.get(task_id)
            return None if task is None else self._view(task)

    def rendered_list(self) -> bytes:
        """``GET /task``: every task, by ``finish_timestamp`` (0 first), ties in the order
        they were added."""
        with self.lock:
            self._advance()
            live = sorted((self._view(t) for t in self._live), key=lambda v: v["finish_timestamp"])
            rendered = [(v["finish_timestamp"], render(v)) for v in live]
        merged = heapq.merge(self._seeded_rendered, rendered, key=lambda pair: pair[0])
        return b"[" + b", ".join(body for _, body in merged) + b"]"

    def dependency_messages(self) -> dict[str, list[str]]:
        """What ``GET /?check_deps=true`` reports as failing."""
        messages: dict[str, list[str]] = {}
        if self.config.es_status is None:
            messages["es"] = ["Elasticsearch could not be reached"]
        elif self.config.es_status != "green":
            messages["es"] = [f"Elasticsearch cluster health: {self.config.es_status}"]
        for name in ("upstream", "api"):
            if name in self.config.databases_down:
                messages.setdefault("db", []).append(
                    f"Database connection for '{name}' could not be established"
                )
        return messages

    # -- the seeded history ------------------------------------------------------------------

    def _seed(self) -> None:
        """Weekly refreshes per media type (REINDEX, filtered index, both aliases, deletion
        of the index that fell out of the kept ones), ending around ``_HISTORY_END``."""
        rng = self.rng
        cycles = max(1, math.ceil(self.config.tasks / 6))  # about 6 tasks a refresh
        gap = min(_WEEK / len(SEEDED_MODELS), 2 * 365 * 86400.0 / cycles)
        scale = min(1.0, gap / (10 * 3600))  # big histories: shorter tasks, no overlaps
        start = _HISTORY_END - cycles * gap
        for model in SEEDED_MODELS:
            suffix = ""
            for weeks in range(max(1, self.config.indices), 0, -1):
                suffix = _suffix(start - weeks * _WEEK)
                documents = self.cluster.next_documents(model)
                self.cluster.create(f"{model}-{suffix}", model, documents)
                self.cluster.create(
                    f"{model}-{suffix}-filtered", model, int(documents * _FILTERED_SHARE)
                )
            self.aliases[model] = f"{model}-{suffix}"
            self.aliases[f"{model}-filtered"] = f"{model}-{suffix}-filtered"
        cycle = 0
        while len(self.tasks) < self.config.tasks:
            model = SEEDED_MODELS[cycle % len(SEEDED_MODELS)]
            _Refresh(self, model, start + cycle * gap + rng.uniform(0, 600), scale).run()
            cycle += 1


class _Refresh:
    """One seeded data refresh of a media type (REINDEX, filtered index, both aliases,
    deletion of the indices that fell out of the kept ones): its tasks are recorded one
    after the other, and it stops wherever the task budget runs out."""

    def __init__(self, state: OpenverseState, model: str, moment: float, scale: float) -> None:
        self.state = state
        self.rng = state.rng
        self.model = model
        self.suffix = _suffix(moment)
        self.at = moment  # when the next task starts
        self.scale = scale

    def run(self) -> None:
        """Record the refresh's tasks and apply them to the indices."""
        documents = self._reindex()
        if documents is not None and self._filtered(documents) and self._aliases():
            self._clean_up()

    def record(self, action: str, seconds: float, **params: Any) -> Task | None:
        """A finished task of ``seconds`` (scaled) starting now; None: no budget left."""
        state = self.state
        if len(state.tasks) >= state.config.tasks:
            return None
        start = round(self.at, 6)
        duration = seconds * self.scale
        task = Task(state.new_hex(), self.model, action, params, start, seeded=True, done=True)
        task.progress = 100.0
        task.finish_timestamp = round(start + duration, 6)
        state.tasks[task.task_id] = task
        self.at = start + duration + self.rng.uniform(60, 900) * self.scale
        return task

    def _delete_index(self, name: str) -> bool:
        """A DELETE_INDEX of ``{model}-{name}`` that succeeded; False: no budget left."""
        if self.record("DELETE_INDEX", self.rng.uniform(0.3, 3), index_suffix=name) is None:
            return False
        self.state.cluster.delete(f"{self.model}-{name}")
        return True

    def _reindex(self) -> int | None:
        """The new index and its documents; None if the refresh ends here."""
        state, rng, model, suffix = self.state, self.rng, self.model, self.suffix
        reindex = self.record("REINDEX", rng.uniform(2, 5) * 3600, index_suffix=suffix)
        if reindex is None:
            return None
        documents = state.cluster.next_documents(model)
        state.cluster.create(f"{model}-{suffix}", model, documents)
        if rng.random() < 0.06:  # indexer workers failed: the new index is dropped
            reindex.progress = 100.0 * rng.randrange(0, 6) / 6
            state.indices[f"{model}-{suffix}"].documents = int(documents * reindex.progress / 100)
            self._delete_index(suffix)
            return None
        return documents

    def _filtered(self, documents: int) -> bool:
        """The filtered twin of the new index; False if the refresh ends here."""
        rng, model, suffix = self.rng, self.model, self.suffix
        filtered = self.record(
            "CREATE_AND_POPULATE_FILTERED_INDEX",
            rng.uniform(0.5, 1.5) * 3600,
            origin_index_suffix=suffix,
            destination_index_suffix=suffix,
        )
        if filtered is None:
            return False
        self.state.cluster.create(
            f"{model}-{suffix}-filtered", model, int(documents * _FILTERED_SHARE)
        )
        if rng.random() < 0.03:  # the ES reindex timed out: an exception, no finish time
            filtered.progress, filtered.finish_timestamp = 0.0, 0.0
            if self._delete_index(f"{suffix}-filtered"):
                self._delete_index(suffix)
            return False
        return True

    def _aliases(self) -> bool:
        """``{model}`` and ``{model}-filtered`` moved to the new indices; False if the
        refresh ends here."""
        rng, model, suffix = self.rng, self.model, self.suffix
        for name, alias in ((suffix, model), (f"{suffix}-filtered", f"{model}-filtered")):
            if (
                self.record("POINT_ALIAS", rng.uniform(5, 90), index_suffix=name, alias=alias)
                is None
            ):
                return False
            self.state.aliases[alias] = f"{model}-{name}"
        if rng.random() < 0.08:  # someone tried to delete the live alias without force
            refused = self.record("DELETE_INDEX", rng.uniform(0.1, 0.5), alias=model)
            if refused is None:
                return False
            refused.progress, refused.is_bad_request = 0.0, True
        return True

    def _clean_up(self) -> None:
        """The indices (and their twins) that fell out of the kept ones, deleted."""
        state, rng, model = self.state, self.rng, self.model
        kept = [
            i.name
            for i in state.indices.values()
            if i.model == model and not i.name.endswith("-filtered")
        ]
        for old in kept[: max(0, len(kept) - max(1, state.config.indices))]:
            old_suffix = old[len(model) + 1 :]
            if not (
                self._delete_index(old_suffix) and self._delete_index(f"{old_suffix}-filtered")
            ):
                return
            if rng.random() < 0.05:  # deleted twice: the target is gone
                again = self.record("DELETE_INDEX", rng.uniform(0.1, 0.5), index_suffix=old_suffix)
                if again is None:
                    return
                again.is_bad_request = True


def _suffix(moment: float) -> str:
    """An index suffix as the data refresh DAG makes them (its ``ts_nodash``, lowercased)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y%m%dt%H%M%S")
