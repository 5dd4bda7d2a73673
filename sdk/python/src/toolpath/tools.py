"""Serve tools to the Toolpath executor over NATS, and call them (docs/ARCHITECTURE.md, "Tools
over NATS"). Mirrors ``serveTool`` / ``callTool`` / ``ToolRegistry`` of the TypeScript SDK.

A provider serves ``<prefix>.tools.<name>`` in the queue group ``toolpath-tools`` (instances
share the load). Request: ``{"parameters": {...}, "context": {"tenantId", "runId", "stepId",
"attempt", "deadline", "idempotencyKey"?, "attemptKind"?}}`` (``deadline`` in epoch milliseconds). Reply: ``{"ok": true, "result":
...}`` or ``{"ok": false, "error": {"message", "retryable"}}``.

Error policy (the same as the TypeScript SDK):

* a raised :class:`ToolError` replies with its ``retryable`` (default ``False``);
* any other exception replies ``retryable: false``, unless it has a boolean ``retryable``
  attribute;
* a handler still running at the deadline is cancelled (an ``async`` handler gets
  ``CancelledError``; a sync one should poll ``context.cancelled``) and the caller gets
  ``retryable: true``; so does one still running when :meth:`ToolServer.stop` gives up waiting;
* a malformed request replies ``retryable: false`` without calling the handler;
* a reply larger than :data:`MAX_TOOL_REPLY_BYTES` (or the server's max payload) becomes
  ``{"message": "result too large", "retryable": false}``.

The registry is the NATS KV bucket ``<prefix>_tools`` (history 1): key = tool name, value = JSON
``{name, description, inputSchema, outputSchema?, updatedAt, expiresAt?, provider}``. A served
tool is announced again every ``heartbeat`` seconds with ``expiresAt`` = now + ``ttl``; readers
list only entries whose ``expiresAt`` is ahead (entries without it never expire), counting the
TTL from when the NATS server stored the entry rather than from the provider's clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as _dt
import functools
import inspect
import json
import logging
import math
import os
import re
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple, Union

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.kv import KeyValue

from .errors import ToolpathError
from .events import TENANT_ID_PATTERN, format_timestamp, to_json_bytes

if TYPE_CHECKING:
    from .async_client import AsyncToolpath
    from .sync_client import Toolpath

__all__ = [
    "DEFAULT_DEDUPE_MAX_ENTRIES",
    "DEFAULT_DEDUPE_TTL",
    "DEFAULT_TOOL_CONCURRENCY",
    "DEFAULT_TOOL_HEARTBEAT",
    "DEFAULT_TOOL_TTL",
    "MAX_TOOL_ERROR_MESSAGE",
    "MAX_TOOL_REPLY_BYTES",
    "TOOL_PROVIDER_QUEUE_GROUP",
    "SyncToolServer",
    "ToolCallError",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolServer",
    "call_tool",
    "serve_tool",
    "serve_tool_sync",
    "tool_registry_bucket",
    "tool_subject",
]

logger = logging.getLogger("toolpath")

#: Queue group tool providers serve in (``TOOL_PROVIDER_QUEUE_GROUP`` in the contracts).
TOOL_PROVIDER_QUEUE_GROUP = "toolpath-tools"
#: Largest encoded reply a provider sends (the server's ``max_payload`` may lower it).
MAX_TOOL_REPLY_BYTES = 1_000_000
#: Longest error message put in a reply; longer ones are cut.
MAX_TOOL_ERROR_MESSAGE = 4096
#: Handlers one server runs at once unless told otherwise.
DEFAULT_TOOL_CONCURRENCY = 64
#: Most entries :meth:`ToolRegistry.list` returns unless told otherwise.
DEFAULT_TOOL_LIST_LIMIT = 1000
#: Seconds a served tool's entry stays live after a heartbeat unless told otherwise.
DEFAULT_TOOL_TTL = 30.0
#: Seconds between a served tool's announces unless told otherwise (a third of the TTL).
DEFAULT_TOOL_HEARTBEAT = 10.0
#: Seconds ``dedupe`` keeps a completed result unless told otherwise.
DEFAULT_DEDUPE_TTL = 600.0
#: Completed results ``dedupe`` keeps unless told otherwise (the oldest go first).
DEFAULT_DEDUPE_MAX_ENTRIES = 10_000

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_PROCESS_PROVIDER_ID = str(uuid.uuid4())

Handler = Callable[[Dict[str, Any], "ToolContext"], Any]


def tool_subject(prefix: str, name: str) -> str:
    """``<prefix>.tools.<name>``: the request/reply subject a provider serves."""
    return f"{prefix}.tools.{name}"


def tool_registry_bucket(prefix: str) -> str:
    """``<prefix>_tools``: the KV bucket where providers announce their tools."""
    return f"{prefix}_tools"


class ToolError(ToolpathError):
    """Raise from a tool handler to choose whether the caller may retry (default: not)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = bool(retryable)


class ToolCallError(ToolpathError):
    """:func:`call_tool` failed. ``code`` is one of ``no_provider`` (nobody serves the tool,
    retryable), ``timeout`` (no reply in time, retryable), ``tool_error`` (the provider replied
    ``ok: false``; its ``retryable``), ``bad_reply`` (not a valid reply, not retryable) or
    ``request_failed`` (could not send: invalid or too large, not retryable; connection closed,
    retryable)."""

    def __init__(self, message: str, code: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


@dataclass
class ToolContext:
    """The request's context. ``deadline`` is epoch milliseconds; ``cancelled`` is set at the
    deadline or when the server stops waiting (sync handlers should check it)."""

    tenant_id: str
    run_id: str
    step_id: str
    attempt: int
    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    #: The same for every attempt of one step of one run (a retry, a takeover after an executor
    #: crash), different in another run: what ``dedupe`` keys on. ``None`` from older executors.
    idempotency_key: Optional[str] = None
    #: ``"first"``, ``"retry"`` (after a failed attempt) or ``"takeover"`` (its executor died).
    attempt_kind: Optional[str] = None

    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline / 1000.0 - time.time())


# --- validation --------------------------------------------------------------------------------


def _validate_definition(definition: Mapping[str, Any]) -> Dict[str, Any]:
    if not isinstance(definition, Mapping):
        raise ValueError("invalid tool definition: must be a mapping")
    problems: List[str] = []
    name = definition.get("name")
    if not isinstance(name, str) or not _TOOL_NAME.match(name):
        problems.append("name: must match ^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$")
    desc = definition.get("description")
    if not isinstance(desc, str) or len(desc) > 10_000:
        problems.append("description: must be a string of at most 10000 characters")
    if not isinstance(definition.get("inputSchema"), Mapping):
        problems.append("inputSchema: must be an object (JSON Schema)")
    if "outputSchema" in definition and definition["outputSchema"] is not None \
            and not isinstance(definition["outputSchema"], Mapping):
        problems.append("outputSchema: must be an object (JSON Schema)")
    if problems:
        raise ValueError(f"invalid tool definition: {'; '.join(problems)}")
    out: Dict[str, Any] = {"name": name, "description": desc, "inputSchema": dict(definition["inputSchema"])}
    if definition.get("outputSchema") is not None:
        out["outputSchema"] = dict(definition["outputSchema"])
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _parse_request(data: bytes) -> Dict[str, Any]:
    """The request as a dict, or raises ``ValueError`` naming what is wrong."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ValueError("(root): expected an object")
    problems: List[str] = []
    if not isinstance(body.get("parameters"), dict):
        problems.append("parameters: expected an object")
    ctx = body.get("context")
    if not isinstance(ctx, dict):
        problems.append("context: expected an object")
    else:
        if not isinstance(ctx.get("tenantId"), str) or not TENANT_ID_PATTERN.match(ctx["tenantId"]):
            problems.append("context.tenantId: invalid")
        for key in ("runId", "stepId"):
            if not isinstance(ctx.get(key), str):
                problems.append(f"context.{key}: expected a string")
        attempt = ctx.get("attempt")
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
            problems.append("context.attempt: expected a positive integer")
        if not _is_number(ctx.get("deadline")):
            problems.append("context.deadline: expected a number (epoch ms)")
        key = ctx.get("idempotencyKey")
        if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 1024):
            problems.append("context.idempotencyKey: expected a string of 1 to 1024 characters")
        kind = ctx.get("attemptKind")
        if kind is not None and kind not in ("first", "retry", "takeover"):
            problems.append("context.attemptKind: expected first, retry or takeover")
    if problems:
        raise ValueError("; ".join(problems))
    return body


def _cut(message: str) -> str:
    if len(message) > MAX_TOOL_ERROR_MESSAGE:
        return message[: MAX_TOOL_ERROR_MESSAGE - 1] + "\u2026"
    return message


def _error_body(exc: BaseException) -> Dict[str, Any]:
    message = exc.message if isinstance(exc, (ToolError, ToolCallError)) else str(exc)
    flag = getattr(exc, "retryable", None)
    return {"message": _cut(message or type(exc).__name__), "retryable": flag if isinstance(flag, bool) else False}


# --- registry ----------------------------------------------------------------------------------


def _provider_info() -> Dict[str, Any]:
    return {"id": _PROCESS_PROVIDER_ID, "host": socket.gethostname(), "pid": os.getpid(), "sdk": "python"}


def _parse_entry(data: Optional[bytes]) -> Optional[Dict[str, Any]]:
    if not data:
        return None
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or not isinstance(raw.get("updatedAt"), str):
            return None
        entry = _validate_definition(raw)
    except ValueError:
        return None
    entry["updatedAt"] = raw["updatedAt"]
    if raw.get("expiresAt") is not None:
        # kept as written; a malformed one reads as expired (see _is_live)
        entry["expiresAt"] = str(raw["expiresAt"])
    p = raw.get("provider")
    if isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("sdk"), str):
        entry["provider"] = {k: p[k] for k in ("id", "host", "pid", "sdk") if k in p}
    else:
        entry["provider"] = {"id": "unknown", "sdk": "unknown"}
    return entry


def _parse_time(text: str) -> Optional[float]:
    """Epoch seconds of an ISO-8601 time (``Z`` or an offset), or ``None`` if it is not one."""
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.timestamp()


def _on_registry_clock(entry: Dict[str, Any], stored_at: Optional[_dt.datetime]) -> Dict[str, Any]:
    """``entry`` with ``expiresAt`` moved onto the registry's clock: the provider's TTL (its
    ``expiresAt`` minus its ``updatedAt``, both by its own clock) counted from ``stored_at``, when
    the NATS server stored it. Without a TTL, or with one that is not positive, it is left as is."""
    expires = entry.get("expiresAt")
    if expires is None or stored_at is None:
        return entry
    end, start = _parse_time(str(expires)), _parse_time(str(entry.get("updatedAt")))
    if end is None or start is None or end - start <= 0:
        return entry
    # format_timestamp reads a naive datetime as UTC, as the server's time is.
    return {**entry, "expiresAt": format_timestamp(stored_at + _dt.timedelta(seconds=end - start))}


def _is_live(entry: Mapping[str, Any], now: Optional[float] = None) -> bool:
    """Whether ``entry`` is live at ``now`` (epoch seconds); no ``expiresAt`` never expires."""
    expires = entry.get("expiresAt")
    if expires is None:
        return True
    t = _parse_time(str(expires))
    return t is not None and t > (time.time() if now is None else now)


class ToolRegistry:
    """The tool registry bucket ``<prefix>_tools`` (created with history 1 if missing).

    Liveness: :func:`serve_tool` announces again every ``heartbeat`` seconds with ``expiresAt``
    = now + ``ttl``; :meth:`get` and :meth:`list` return only live entries, so a provider that
    died drops out within the TTL, and :meth:`describe` says it expired. Several instances of a
    provider write the same key (the last write wins), so the entry lives while any of them
    heartbeats; a stopping instance never deletes it. Entries without ``expiresAt`` (static
    registrations, older SDKs) never expire. The bucket's configuration is not changed (no
    ``max_age``), so buckets created before liveness existed work as they are. :meth:`remove`
    retires a tool for good once no provider of it runs (a live one announces it again).
    """

    def __init__(self, nc: NATS, prefix: str = "toolpath") -> None:
        self._nc = nc
        self.prefix = prefix
        self.bucket = tool_registry_bucket(prefix)
        self._kv: Optional[KeyValue] = None

    async def _bucket(self) -> KeyValue:
        if self._kv is not None:
            return self._kv
        js = self._nc.jetstream()
        try:
            kv = await js.key_value(self.bucket)
        except nats.js.errors.BucketNotFoundError:
            try:
                kv = await js.create_key_value(bucket=self.bucket, history=1)
            except nats.js.errors.Error:
                kv = await js.key_value(self.bucket)  # another process created it first
        self._kv = kv
        return kv

    async def announce(self, definition: Mapping[str, Any], *, ttl: Optional[float] = None) -> Dict[str, Any]:
        """Validates and writes ``definition``; returns the stored entry. With ``ttl`` (seconds)
        the entry expires that long after this write unless announced again (what the
        :func:`serve_tool` heartbeat does); without it the registration is static."""
        entry = _validate_definition(definition)
        if ttl is not None and not (_is_number(ttl) and ttl > 0):
            raise ValueError(f"invalid ttl {ttl!r}: must be a positive number of seconds")
        now = time.time()
        entry["updatedAt"] = format_timestamp(now)
        if ttl is not None:
            entry["expiresAt"] = format_timestamp(now + ttl)
        entry["provider"] = _provider_info()
        kv = await self._bucket()
        await kv.put(entry["name"], json.dumps(entry, separators=(",", ":")).encode())
        return entry

    async def get(self, name: str) -> Optional[Dict[str, Any]]:
        """The live entry for ``name``, or ``None`` when absent, expired, deleted or unreadable."""
        entry = await self._read(name)
        return entry if entry is not None and _is_live(entry) else None

    async def describe(self, name: str) -> Dict[str, Any]:
        """``{"name", "state": "live" | "expired" | "absent", "entry"?, "message"}``: whether
        ``name`` is live, expired (with the stale entry) or absent, with a sentence saying so."""
        entry = await self._read(name)
        if entry is None:
            return {"name": name, "state": "absent", "message": f"tool {name} is not in the registry"}
        if _is_live(entry):
            until = (f", live until {entry['expiresAt']} unless announced again" if "expiresAt" in entry
                     else ", a static registration")
            return {"name": name, "state": "live", "entry": entry,
                    "message": f"tool {name} was announced at {entry['updatedAt']}{until}"}
        return {"name": name, "state": "expired", "entry": entry,
                "message": f"tool {name} expired at {entry['expiresAt']}: "
                           f"no provider has announced it since {entry['updatedAt']}"}

    async def _read(self, name: str) -> Optional[Dict[str, Any]]:
        """The stored entry, live or not; ``None`` when absent, deleted or unreadable."""
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            return None
        await self._bucket()
        # The stream message, not nats-py's KV entry, which leaves out when the server stored it.
        try:
            msg = await self._nc.jetstream().get_msg(f"KV_{self.bucket}", subject=f"$KV.{self.bucket}.{name}")
        except nats.js.errors.NotFoundError:
            return None
        if (msg.headers or {}).get("KV-Operation") in ("DEL", "PURGE"):
            return None
        entry = _parse_entry(msg.data)
        return entry and _on_registry_clock(entry, msg.time)

    async def list(self, limit: int = DEFAULT_TOOL_LIST_LIMIT, *,
                   include_expired: bool = False) -> List[Dict[str, Any]]:
        """Up to ``limit`` live entries (with ``include_expired``, expired ones too) sorted by
        name; unreadable values are skipped."""
        out: List[Dict[str, Any]] = []
        if limit <= 0:
            return out
        kv = await self._bucket()
        try:
            keys = await kv.keys()
        except nats.js.errors.NoKeysError:
            return []
        now = time.time()
        # Every key is read: expired entries stay in the bucket and must not crowd live ones out.
        for name in sorted(keys):
            entry = await self._read(name)
            if entry is not None and (include_expired or _is_live(entry, now)):
                out.append(entry)
                if len(out) >= limit:
                    break
        return out

    async def remove(self, name: str) -> None:
        """Deletes ``name`` (a no-op if absent)."""
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            return
        kv = await self._bucket()
        await kv.delete(name)


# --- serving -----------------------------------------------------------------------------------


async def _resolve_nc(client_or_nc: Union["AsyncToolpath", NATS], connect_timeout: float) -> NATS:
    if isinstance(client_or_nc, NATS):
        if not client_or_nc.is_connected:
            raise ToolpathError("the NATS connection is not connected")
        return client_or_nc
    client = client_or_nc
    if not await client.wait_connected(0):
        await client.connect(timeout=connect_timeout)
        if not await client.wait_connected(connect_timeout):
            raise ToolpathError(f"not connected to NATS after {connect_timeout}s")
    nc = client._nc  # the client's own connection: one socket per process
    assert nc is not None
    return nc


class _DedupeCache:
    """Completed results by (tenant, idempotency key), bounded in time and count, plus the
    attempts still running, which duplicates wait for. Insertion order is expiry order (one TTL
    for all), so pruning only looks at the oldest entries."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.done: "OrderedDict[str, Tuple[Any, float]]" = OrderedDict()
        self.running: Dict[str, "asyncio.Event"] = {}

    def get(self, key: str) -> Optional[Tuple[Any]]:
        hit = self.done.get(key)
        if hit is None:
            return None
        if hit[1] <= time.monotonic():
            del self.done[key]
            return None
        return (hit[0],)

    def put(self, key: str, result: Any) -> None:
        self.done.pop(key, None)
        now = time.monotonic()
        self.done[key] = (result, now + self.ttl)
        while self.done:
            oldest_key, (_, expires) = next(iter(self.done.items()))
            if len(self.done) > self.max_entries or expires <= now:
                del self.done[oldest_key]
            else:
                break


class ToolServer:
    """One served tool (asyncio). Create with :func:`serve_tool`."""

    def __init__(self, nc: NATS, definition: Dict[str, Any], handler: Handler, *, prefix: str,
                 queue_group: str, concurrency: int, max_reply_bytes: int,
                 dedupe: Optional[_DedupeCache] = None) -> None:
        self._nc = nc
        self.definition = definition
        self.name: str = definition["name"]
        self._handler = handler
        self.prefix = prefix
        self.subject = tool_subject(prefix, self.name)
        self.queue_group = queue_group
        self._sem = asyncio.Semaphore(max(1, int(concurrency)))
        self._max_reply = min(int(max_reply_bytes), int(nc.max_payload or max_reply_bytes))
        self._running: Set["asyncio.Task[None]"] = set()
        self._aborts: Set["asyncio.Future[BaseException]"] = set()
        self._sub: Optional[Subscription] = None
        self._stopping: Optional["asyncio.Task[None]"] = None
        self._beat: Optional["asyncio.Task[None]"] = None
        self._stop_beat = asyncio.Event()
        self._counts = {"received": 0, "ok": 0, "failed": 0, "bad_requests": 0, "timed_out": 0, "too_large": 0,
                        "deduplicated": 0}
        self._dedupe = dedupe
        # Set once stop() cancels the running handlers: a duplicate still waiting gives up too.
        self._halted = False

    @property
    def stats(self) -> Dict[str, int]:
        out = dict(self._counts)
        out["in_flight"] = len(self._running)
        return out

    async def _start(self) -> None:
        self._sub = await self._nc.subscribe(self.subject, queue=self.queue_group, cb=self._on_msg)

    def _start_heartbeat(self, registry: "ToolRegistry", interval: float, ttl: float) -> None:
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat(registry, interval, ttl))

    async def _heartbeat(self, registry: "ToolRegistry", interval: float, ttl: float) -> None:
        # Every instance writes the same key, so the entry stays live while any of them runs.
        # One write at a time; stop() waits for a write on the wire instead of cancelling it, so
        # no announce lands after stop() returns.
        while not self._stop_beat.is_set():
            try:
                await asyncio.wait_for(self._stop_beat.wait(), interval)
                return
            except asyncio.TimeoutError:
                pass
            if self._nc.is_closed:
                return
            try:
                await registry.announce(self.definition, ttl=ttl)
            except Exception as exc:
                logger.warning("toolpath: tool %s heartbeat failed: %s", self.name, exc)

    async def _on_msg(self, msg: Msg) -> None:
        if not msg.reply:
            return  # a publish, not a request
        # nats-py runs this callback serially per subscription: waiting for a slot here makes
        # further requests wait in the subscription, as in the TypeScript SDK.
        await self._sem.acquire()
        task = asyncio.get_running_loop().create_task(self._handle(msg))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: "asyncio.Task[None]") -> None:
        self._running.discard(task)
        self._sem.release()
        if not task.cancelled() and task.exception() is not None:
            logger.warning("toolpath: tool %s failed to answer", self.name, exc_info=task.exception())

    async def _respond(self, msg: Msg, reply: Dict[str, Any]) -> None:
        data = to_json_bytes(reply)
        if len(data) > self._max_reply:
            self._counts["too_large"] += 1
            data = to_json_bytes({"ok": False, "error": {"message": "result too large", "retryable": False}})
        try:
            await msg.respond(data)
        except Exception:
            logger.debug("toolpath: could not reply on %s", self.subject, exc_info=True)

    async def _invoke(self, parameters: Dict[str, Any], ctx: ToolContext) -> Any:
        if inspect.iscoroutinefunction(self._handler):
            result = await self._handler(parameters, ctx)
        else:
            loop = asyncio.get_running_loop()
            # A sync handler runs on a worker thread, so it never blocks the event loop.
            result = await loop.run_in_executor(None, functools.partial(self._handler, parameters, ctx))
        while inspect.isawaitable(result):
            result = await result
        return result

    async def _handle(self, msg: Msg) -> None:
        self._counts["received"] += 1
        try:
            request = _parse_request(msg.data)
        except ValueError as exc:
            self._counts["bad_requests"] += 1
            await self._respond(msg, {"ok": False, "error": {"message": _cut(f"invalid tool request: {exc}"), "retryable": False}})
            return
        c = request["context"]
        ctx = ToolContext(tenant_id=c["tenantId"], run_id=c["runId"], step_id=c["stepId"],
                          attempt=c["attempt"], deadline=c["deadline"],
                          idempotency_key=c.get("idempotencyKey"), attempt_kind=c.get("attemptKind"))
        remaining = c["deadline"] / 1000.0 - time.time()
        if remaining <= 0:
            self._counts["timed_out"] += 1
            await self._respond(msg, {"ok": False, "error": {
                "message": f"tool {self.name} deadline passed before it started", "retryable": True}})
            return
        dedupe = self._dedupe
        key = f"{ctx.tenant_id}\n{ctx.idempotency_key}" if dedupe is not None and ctx.idempotency_key else None
        if dedupe is None or key is None:
            await self._run(msg, request, ctx, None)
            return
        # A duplicate of an attempt that completed gets its result; one of an attempt still
        # running waits for it (bounded by its own deadline), then looks again: a failed first
        # attempt leaves nothing stored, so the duplicate runs the handler itself.
        while True:
            hit = dedupe.get(key)
            if hit is not None:
                self._counts["deduplicated"] += 1
                await self._respond(msg, {"ok": True, "result": hit[0]})
                return
            if self._halted:
                await self._respond(msg, {"ok": False, "error": {
                    "message": f"tool {self.name} provider stopped", "retryable": True}})
                return
            first = dedupe.running.get(key)
            if first is None:
                break
            try:
                await asyncio.wait_for(first.wait(), max(0.0, ctx.remaining()))
            except asyncio.TimeoutError:
                self._counts["timed_out"] += 1
                await self._respond(msg, {"ok": False, "error": {
                    "message": f"tool {self.name}: the first attempt with this idempotency key still runs",
                    "retryable": True}})
                return
        settled = asyncio.Event()
        dedupe.running[key] = settled
        try:
            await self._run(msg, request, ctx, key)
        finally:
            if dedupe.running.get(key) is settled:
                del dedupe.running[key]
            settled.set()

    async def _run(self, msg: Msg, request: Dict[str, Any], ctx: ToolContext, key: Optional[str]) -> None:
        remaining = ctx.deadline / 1000.0 - time.time()
        loop = asyncio.get_running_loop()
        abort: "asyncio.Future[BaseException]" = loop.create_future()
        self._aborts.add(abort)
        timer = loop.call_later(remaining, _settle, abort,
                                ToolError(f"tool {self.name} exceeded its deadline", retryable=True))
        work = loop.create_task(self._invoke(request["parameters"], ctx))
        try:
            await asyncio.wait({work, abort}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                ctx.cancelled.set()
                work.cancel()
                work.add_done_callback(_consume)
                self._counts["timed_out"] += 1
                await self._respond(msg, {"ok": False, "error": _error_body(abort.result())})
            elif work.cancelled():
                self._counts["failed"] += 1
                await self._respond(msg, {"ok": False, "error": {"message": f"tool {self.name} was cancelled", "retryable": True}})
            elif work.exception() is not None:
                self._counts["failed"] += 1
                failure = work.exception()
                assert failure is not None
                await self._respond(msg, {"ok": False, "error": _error_body(failure)})
            else:
                self._counts["ok"] += 1
                if self._dedupe is not None and key is not None:
                    self._dedupe.put(key, work.result())
                await self._respond(msg, {"ok": True, "result": work.result()})
        except asyncio.CancelledError:
            ctx.cancelled.set()
            work.cancel()
            work.add_done_callback(_consume)
            raise
        finally:
            timer.cancel()
            self._aborts.discard(abort)

    async def stop(self, timeout: float = 10.0) -> None:
        """Drains the subscription (delivered requests are still answered), waits up to
        ``timeout`` seconds for running handlers, then cancels the rest (their callers get
        ``"tool <name> provider stopped"``, retryable). Stops the heartbeat but leaves the
        registry entry: other instances may still serve the tool and keep it live; if none
        does, it expires ``ttl`` after the last announce. Idempotent."""
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self._stop(timeout))
        await asyncio.shield(self._stopping)

    async def _stop(self, timeout: float) -> None:
        self._stop_beat.set()
        if self._beat is not None:
            await asyncio.wait({self._beat}, timeout=10.0)
        sub = self._sub
        if sub is not None:
            try:
                await sub.drain()  # type: ignore[no-untyped-call]
            except Exception:
                try:
                    await sub.unsubscribe()
                except Exception:
                    pass
        if self._running:
            await asyncio.wait(set(self._running), timeout=max(0.0, timeout))
        self._halted = True
        stopped = ToolError(f"tool {self.name} provider stopped", retryable=True)
        for fut in list(self._aborts):
            _settle(fut, stopped)
        if self._running:
            await asyncio.wait(set(self._running), timeout=5.0)


def _settle(fut: "asyncio.Future[BaseException]", reason: BaseException) -> None:
    if not fut.done():
        fut.set_result(reason)


def _consume(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "exception was never retrieved"


async def serve_tool(
    client_or_nc: Union["AsyncToolpath", NATS],
    definition: Mapping[str, Any],
    handler: Handler,
    *,
    prefix: Optional[str] = None,
    queue_group: str = TOOL_PROVIDER_QUEUE_GROUP,
    announce: bool = True,
    concurrency: int = DEFAULT_TOOL_CONCURRENCY,
    max_reply_bytes: int = MAX_TOOL_REPLY_BYTES,
    connect_timeout: float = 5.0,
    heartbeat: float = DEFAULT_TOOL_HEARTBEAT,
    ttl: float = DEFAULT_TOOL_TTL,
    dedupe: Union[bool, Mapping[str, Any]] = False,
) -> ToolServer:
    """Serves ``definition["name"]`` on ``<prefix>.tools.<name>`` in ``queue_group`` and (by
    default) announces it in the registry once the subscription is live.

    ``client_or_nc`` is an :class:`AsyncToolpath` (its connection is used; ``prefix`` defaults
    to its ``subject_prefix``) or a connected ``nats.aio.client.Client`` (``prefix`` defaults to
    ``toolpath``). ``handler(parameters, context)`` may be ``async`` (cancelled at the deadline)
    or sync (run on a worker thread). While serving it announces again every ``heartbeat``
    seconds, and the registry treats the entry as gone ``ttl`` seconds after the last announce
    (``ttl`` must exceed ``heartbeat``; three times it leaves room for two missed beats); a failed
    heartbeat is logged and the next one tries again. Raises ``ValueError`` for an invalid
    definition or timings and re-raises a failed first announce (the subscription is removed
    first).

    ``dedupe`` (opt-in) de-duplicates on the request's ``idempotencyKey`` (the executor sends the
    same key for every attempt of a step, a takeover after an executor crash included): a request
    whose key already completed here gets the stored result again instead of running the handler
    twice, and one that arrives while the first still runs waits for it. Only successes are kept,
    per tenant, in this process's memory (instances do not share it), for ``ttl`` seconds
    (default 600) and at most ``max_entries`` (default 10000) results: pass ``True`` or
    ``{"ttl": 60, "max_entries": 1000}``. Requests without a key run as usual.
    """
    defn = _validate_definition(definition)
    cache: Optional[_DedupeCache] = None
    if dedupe:
        opts: Mapping[str, Any] = dedupe if isinstance(dedupe, Mapping) else {}
        d_ttl = opts.get("ttl", DEFAULT_DEDUPE_TTL)
        d_max = opts.get("max_entries", DEFAULT_DEDUPE_MAX_ENTRIES)
        unknown = set(opts) - {"ttl", "max_entries"}
        if unknown or not (_is_number(d_ttl) and d_ttl > 0) or not (isinstance(d_max, int) and not isinstance(d_max, bool) and d_max > 0):
            raise ValueError(f"invalid dedupe options: ttl ({d_ttl!r}) must be positive and max_entries "
                             f"({d_max!r}) a positive integer{f'; unknown {sorted(unknown)}' if unknown else ''}")
        cache = _DedupeCache(float(d_ttl), d_max)
    if not (_is_number(heartbeat) and heartbeat > 0 and _is_number(ttl) and ttl > heartbeat):
        raise ValueError(f"invalid liveness timings: heartbeat ({heartbeat!r}) must be positive "
                         f"and ttl ({ttl!r}) larger")
    if prefix is None:
        prefix = "toolpath" if isinstance(client_or_nc, NATS) else client_or_nc.subject_prefix
    nc = await _resolve_nc(client_or_nc, connect_timeout)
    server = ToolServer(nc, defn, handler, prefix=prefix, queue_group=queue_group,
                        concurrency=concurrency, max_reply_bytes=max_reply_bytes, dedupe=cache)
    await server._start()
    try:
        # The subscription is live on the server before serve_tool returns (and before the
        # registry points callers at it), so a caller right after never misses this provider.
        await nc.flush()
        registry = ToolRegistry(nc, prefix)
        if announce:
            await registry.announce(defn, ttl=ttl)
    except BaseException:
        await server.stop(0)
        raise
    if announce:
        server._start_heartbeat(registry, heartbeat, ttl)
    return server


class SyncToolServer:
    """A :class:`ToolServer` running on a :class:`toolpath.Toolpath` background loop."""

    def __init__(self, server: ToolServer, loop: asyncio.AbstractEventLoop) -> None:
        self._server = server
        self._loop = loop
        self.subject = server.subject
        self.queue_group = server.queue_group
        self.name = server.name

    @property
    def stats(self) -> Dict[str, int]:
        return self._server.stats

    def stop(self, timeout: float = 10.0) -> None:
        """See :meth:`ToolServer.stop`; blocks at most about ``timeout`` + 6 seconds."""
        fut = asyncio.run_coroutine_threadsafe(self._server.stop(timeout), self._loop)
        try:
            fut.result(timeout + 6.0)
        except concurrent.futures.TimeoutError:
            fut.cancel()

    def __enter__(self) -> "SyncToolServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_tool_sync(client: "Toolpath", definition: Mapping[str, Any], handler: Handler,
                    **options: Any) -> SyncToolServer:
    """:func:`serve_tool` for the sync client: runs on its background loop and blocks until the
    tool is served (and announced). ``handler`` may be sync (run on a worker thread, so it may
    block) or ``async``. Same options as :func:`serve_tool`."""
    client._check_fork()
    loop = client._loop
    if threading.get_ident() == client._thread.ident:
        raise RuntimeError("cannot block on the Toolpath loop from its own thread")
    fut = asyncio.run_coroutine_threadsafe(serve_tool(client._core, definition, handler, **options), loop)
    server = fut.result(float(options.get("connect_timeout", 5.0)) + 30.0)
    return SyncToolServer(server, loop)


# --- calling -----------------------------------------------------------------------------------


async def call_tool(
    client_or_nc: Union["AsyncToolpath", NATS],
    prefix: str,
    name: str,
    parameters: Mapping[str, Any],
    context: Mapping[str, Any],
    timeout: float,
) -> Any:
    """Calls tool ``name`` and returns its result, or raises :class:`ToolCallError`.

    ``context`` uses the contract's keys (``tenantId``, ``runId``, ``stepId``, ``attempt``,
    ``deadline`` in epoch ms); ``timeout`` is in seconds.
    """
    payload = to_json_bytes({"parameters": dict(parameters), "context": dict(context)})
    try:
        _parse_request(payload)
        if not _TOOL_NAME.match(name):
            raise ValueError(f"bad tool name {name!r}")
    except ValueError as exc:
        raise ToolCallError(f"invalid tool request: {exc}", "request_failed", False) from None
    nc = client_or_nc if isinstance(client_or_nc, NATS) else client_or_nc._nc
    if nc is None:
        raise ToolCallError("the client is not connected", "request_failed", True)
    try:
        reply = await nc.request(tool_subject(prefix, name), payload, timeout=max(0.001, timeout))
    except nats.errors.NoRespondersError:
        raise ToolCallError(f"no provider serves tool {name}", "no_provider", True) from None
    except nats.errors.TimeoutError:
        raise ToolCallError(f"tool {name} did not reply within {timeout}s", "timeout", True) from None
    except nats.errors.MaxPayloadError as exc:
        raise ToolCallError(f"calling tool {name} failed: {exc}", "request_failed", False) from None
    except Exception as exc:
        raise ToolCallError(f"calling tool {name} failed: {exc}", "request_failed", True) from None
    try:
        body = json.loads(reply.data)
        ok = body.get("ok") if isinstance(body, dict) else None
        if ok is True:
            return body.get("result")
        err = body.get("error") if ok is False else None
        if not isinstance(err, dict) or not isinstance(err.get("message"), str) \
                or not isinstance(err.get("retryable"), bool):
            raise ValueError("not a tool reply")
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise ToolCallError(f"tool {name} sent a malformed reply: {exc}", "bad_reply", False) from None
    raise ToolCallError(err["message"], "tool_error", err["retryable"])

