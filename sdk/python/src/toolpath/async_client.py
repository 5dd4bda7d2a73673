"""Asyncio client: a bounded buffer in front of JetStream.

Why a buffer and a background task rather than ``await js.publish()`` in the caller: the
caller is serving a request, and a slow or absent NATS must cost it nothing. ``publish()``
only validates, encodes and appends to an in-memory deque; a task on the event loop drains
the deque with a bounded number of concurrent ``js.publish`` calls, each acknowledged by the
stream and retried a few times. Everything that can go wrong after ``publish()`` returned is
counted in :attr:`AsyncToolpath.stats`, never raised.

The deque is guarded by a ``threading.Lock`` so that ``publish()`` is safe from any thread;
the sync :class:`toolpath.Toolpath` relies on this, running this client on its own loop thread.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Deque, Dict, List, Optional, Sequence, Union

import nats.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from . import events as _events
from .errors import EventTooLargeError, InvalidEventError
from ._tasks import cancel_and_wait
from .session import Session

__all__ = ["AsyncToolpath", "DEFAULT_SERVERS"]

logger = logging.getLogger("toolpath")

#: Used when neither ``servers`` nor the ``NATS_URL`` environment variable is given.
DEFAULT_SERVERS = "nats://127.0.0.1:4222"

_HDR_LINE_BYTES = len(b"NATS/1.0\r\n") + len(b"\r\n")


class _Item:
    """One encoded event waiting for delivery; kept encoded so retries never re-serialise."""

    __slots__ = ("subject", "payload", "headers", "wire_size", "settled")

    def __init__(self, subject: str, payload: bytes, headers: Dict[str, str]) -> None:
        #: True once the event was acknowledged or counted as dropped; until then a cancelled
        #: send puts it back in the buffer.
        self.settled = False
        self.subject = subject
        self.payload = payload
        self.headers = headers
        self.wire_size = len(payload) + _HDR_LINE_BYTES + sum(
            len(k) + len(v) + 4 for k, v in headers.items()
        )


def _split_servers(servers: Union[None, str, Sequence[str]]) -> List[str]:
    if servers is None:
        servers = os.environ.get("NATS_URL") or DEFAULT_SERVERS
    if isinstance(servers, str):
        servers = [s.strip() for s in servers.split(",")]
    out = [s for s in servers if s]
    if not out:
        raise ValueError("servers: at least one NATS URL is required")
    return out


class AsyncToolpath:
    """Publishes tool-call events to NATS JetStream from asyncio code (FastAPI, aiohttp...).

    Typical use in a FastAPI lifespan::

        client = AsyncToolpath("acme", source="search-api")
        await client.connect()      # never raises because NATS is down; returns connected?
        ...
        client.publish(event)       # non-blocking, from any thread
        await client.close()        # flushes with a bound, then disconnects

    Args:
        tenant_id: every event's default ``tenantId``; validated now, so a typo fails at boot.
        servers: NATS URL(s), a list or a comma-separated string; default ``$NATS_URL`` or
            ``nats://127.0.0.1:4222``.
        subject_prefix: events go to ``<prefix>.events.<tenantId>``.
        source: default ``source`` field (the publishing service's name).
        max_buffer: most events held in memory (queued plus in flight); beyond it new events
            are dropped and counted, so an outage cannot exhaust the host's memory.
        max_in_flight: concurrent unacknowledged publishes.
        publish_timeout: seconds to wait for one JetStream acknowledgement.
        max_retries: retries of a failed publish (with jittered exponential backoff) before
            the event is counted in ``dropped_errors``.
        retry_backoff: first backoff delay in seconds.
        connect_timeout: seconds per TCP/handshake attempt, and how long ``connect()`` waits.
        reconnect_time_wait: pause between connection attempts; attempts never stop.
        name: connection name shown in NATS monitoring.
        flush_at_exit: register an ``atexit`` hook that delivers what is still buffered.
        exit_timeout: bound on that hook, in seconds.
        nats_options: extra keyword arguments for ``nats.aio.client.Client.connect``
            (credentials, TLS...).
    """

    def __init__(
        self,
        tenant_id: str,
        *,
        servers: Union[None, str, Sequence[str]] = None,
        subject_prefix: str = "toolpath",
        source: Optional[str] = None,
        max_buffer: int = 10_000,
        max_in_flight: int = 256,
        publish_timeout: float = 5.0,
        max_retries: int = 3,
        retry_backoff: float = 0.2,
        connect_timeout: float = 2.0,
        reconnect_time_wait: float = 2.0,
        name: Optional[str] = None,
        flush_at_exit: bool = True,
        exit_timeout: float = 5.0,
        nats_options: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.tenant_id = _events.validate_tenant_id(tenant_id, "tenant_id (tenantId)")
        self.subject_prefix = _events.validate_subject_prefix(subject_prefix)
        if source is not None and (not isinstance(source, str) or not source or len(source) > 256):
            raise InvalidEventError("source", "must be a non-empty string of at most 256 characters")
        if max_buffer < 1 or max_in_flight < 1:
            raise ValueError("max_buffer and max_in_flight must be at least 1")
        self.source = source
        self._servers = _split_servers(servers)
        self._max_buffer = int(max_buffer)
        self._max_in_flight = int(max_in_flight)
        self._publish_timeout = float(publish_timeout)
        self._max_retries = max(0, int(max_retries))
        self._retry_backoff = float(retry_backoff)
        self._connect_timeout = float(connect_timeout)
        self._reconnect_time_wait = float(reconnect_time_wait)
        self._name = name or (f"toolpath-py:{source}" if source else "toolpath-py")
        self._flush_at_exit = flush_at_exit
        self._exit_timeout = float(exit_timeout)
        self._nats_options = dict(nats_options or {})

        self._lock = threading.Lock()
        self._buffer: Deque[_Item] = deque()
        self._in_flight = 0
        self._counts = {"published": 0, "dropped_buffer_full": 0, "dropped_errors": 0, "too_large": 0}
        self._server_max_payload = _events.MAX_EVENT_BYTES
        self._last_full_warning = 0.0
        self._warned_closed = False
        self._error_logged = False

        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None
        self._wake: Optional[asyncio.Event] = None
        self._wake_requested = False
        self._connected: Optional[asyncio.Event] = None
        self._nc: Optional[NATS] = None
        self._js: Optional[JetStreamContext] = None
        self._connect_task: Optional["asyncio.Task[None]"] = None
        self._publisher_task: Optional["asyncio.Task[None]"] = None
        self._sends: Dict["asyncio.Task[None]", _Item] = {}
        self._sem: Optional[asyncio.Semaphore] = None
        self._started = False
        self._closing = False
        self._closed = False

    # --- public API ---------------------------------------------------------------------------

    @property
    def stats(self) -> Dict[str, Any]:
        """Counters since construction: ``published`` (acknowledged by the stream),
        ``dropped_buffer_full``, ``dropped_errors`` (retries exhausted, or still undelivered at
        close), ``too_large``, ``pending`` (queued + in flight) and ``connected``."""
        with self._lock:
            out: Dict[str, Any] = dict(self._counts)
            out["pending"] = len(self._buffer) + self._in_flight
        out["connected"] = self.is_connected
        return out

    @property
    def is_connected(self) -> bool:
        nc = self._nc
        return bool(nc is not None and nc.is_connected and self._js is not None)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buffer) + self._in_flight

    async def connect(self, timeout: Optional[float] = None) -> bool:
        """Starts the background connection and publisher; returns whether NATS is connected.

        Waits at most ``timeout`` (default ``connect_timeout``) and never raises because NATS
        is unreachable: the client keeps retrying in the background and events queue up to
        ``max_buffer``, so a service can boot while NATS is down.
        """
        if self._closed or self._closing:
            raise RuntimeError("this Toolpath client is closed")
        if not self._started:
            loop = asyncio.get_running_loop()
            self._connected = asyncio.Event()
            self._sem = asyncio.Semaphore(self._max_in_flight)
            with self._lock:
                self._loop = loop
                self._loop_thread = threading.get_ident()
                self._wake = asyncio.Event()
                self._wake_requested = True  # the publisher looks at the buffer first anyway
            self._nc = NATS()
            self._started = True
            self._connect_task = loop.create_task(self._connect_loop(), name="toolpath-connect")
            self._publisher_task = loop.create_task(self._publisher(), name="toolpath-publisher")
            if self._flush_at_exit:
                atexit.register(self._atexit)
        return await self.wait_connected(self._connect_timeout if timeout is None else timeout)

    async def wait_connected(self, timeout: float) -> bool:
        """Waits up to ``timeout`` seconds for a NATS connection; ``False`` if there is none."""
        if self.is_connected:
            return True
        if self._connected is None:
            return False
        try:
            await asyncio.wait_for(self._connected.wait(), timeout=max(0.0, timeout))
        except asyncio.TimeoutError:
            return False
        return self.is_connected

    def publish(self, event: Mapping[str, Any]) -> bool:
        """Validates, encodes and queues ``event``; returns ``False`` if it was dropped.

        Fills in ``specVersion``, ``eventId``, ``tenantId``, ``kind`` (``tool_call``) and
        ``source`` when absent, and accepts a datetime for ``startedAt``. Never blocks and never
        waits for NATS. Raises only for events that can never be delivered:
        :class:`InvalidEventError` and :class:`EventTooLargeError` (which is also counted).
        A full buffer or a closed client drops the event and counts it instead, because
        a telemetry hiccup must not fail the caller's request.
        """
        item = self._prepare(event)
        need_wake = False
        warn = False
        with self._lock:
            if self._closing or self._closed:
                self._counts["dropped_errors"] += 1
                outcome = "closed"
                warn = not self._warned_closed
                self._warned_closed = True
            elif len(self._buffer) + self._in_flight >= self._max_buffer:
                self._counts["dropped_buffer_full"] += 1
                outcome = "full"
                now = time.monotonic()
                if now - self._last_full_warning > 10.0:
                    self._last_full_warning = now
                    warn = True
            else:
                outcome = "queued"
                self._buffer.append(item)
                loop = self._loop
                if loop is not None and not self._wake_requested:
                    self._wake_requested = True
                    need_wake = True
        if outcome == "closed":
            if warn:
                logger.warning("toolpath: publish() after close(); the event is dropped")
            return False
        if outcome == "full":
            if warn:
                logger.warning("toolpath: buffer full (%d events); dropping new events", self._max_buffer)
            return False
        if need_wake:
            self._wake_publisher(loop)  # type: ignore[arg-type]
        return True

    async def flush(self, timeout: float = 5.0) -> bool:
        """Waits until every queued event is acknowledged or dropped, at most ``timeout``
        seconds. Returns ``True`` when nothing is pending."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while self.pending:
            if not self._started or loop.time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def close(self, timeout: float = 5.0) -> None:
        """Flushes for at most ``timeout`` seconds, then stops and disconnects.

        Events still undelivered after the bound are counted in ``dropped_errors`` (and
        logged): shutting down must not hang on an absent NATS.
        """
        if self._closed:
            return
        self._closing = True
        try:
            if self._started:
                await self.flush(timeout)
                await self._stop_tasks()
                nc = self._nc
                if nc is not None and not nc.is_closed:
                    try:
                        await asyncio.wait_for(nc.close(), timeout=2.0)
                    except Exception:  # closing is best effort
                        logger.debug("toolpath: error closing the NATS connection", exc_info=True)
        finally:
            with self._lock:
                left = len(self._buffer)
                self._buffer.clear()
                self._counts["dropped_errors"] += left
            self._closed = True
            atexit.unregister(self._atexit)
            if left:
                logger.warning("toolpath: %d event(s) were not delivered before close", left)

    def session(
        self,
        intent: Optional[str] = None,
        *,
        session_id: Optional[str] = None,
        user_id: Optional[str] = None,
        agent_id: Optional[str] = None,
        source: Optional[str] = None,
        run_id: Optional[str] = None,
    ) -> Session:
        """A tracker for one task; use as ``async with`` (or ``with``). See :class:`Session`."""
        return Session(
            self, intent=intent, session_id=session_id, user_id=user_id,
            agent_id=agent_id, source=source or self.source, run_id=run_id,
        )

    async def __aenter__(self) -> "AsyncToolpath":
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close(self._exit_timeout)

    # --- internals ----------------------------------------------------------------------------

    def _prepare(self, event: Mapping[str, Any]) -> _Item:
        if not isinstance(event, Mapping):
            raise InvalidEventError("(root)", f"an event must be a dict, got {type(event).__name__}")
        ev = dict(event)
        ev.setdefault("specVersion", _events.SPEC_VERSION)
        ev.setdefault("kind", "tool_call")
        if not ev.get("eventId"):
            ev["eventId"] = _events.new_event_id()
        if ev.get("tenantId") is None:
            ev["tenantId"] = self.tenant_id
        if ev.get("source") is None and self.source is not None:
            ev["source"] = self.source
        started = ev.get("startedAt")
        if started is not None and not isinstance(started, (str, int, float)):
            ev["startedAt"] = _events.format_timestamp(started)
        try:
            payload = _events.encode_event(ev)
            item = _Item(
                _events.events_subject(self.subject_prefix, ev["tenantId"]),
                payload,
                {"Nats-Msg-Id": _events.msg_id(ev["tenantId"], ev["eventId"])},
            )
            if item.wire_size > self._server_max_payload:
                raise EventTooLargeError(
                    item.wire_size, self._server_max_payload,
                    "payload plus headers exceed the server's max_payload",
                )
        except EventTooLargeError:
            with self._lock:
                self._counts["too_large"] += 1
            raise
        return item

    def _wake_publisher(self, loop: asyncio.AbstractEventLoop) -> None:
        wake = self._wake
        if wake is None:
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:
            # The loop is closed (the app forgot close()); the atexit hook delivers the buffer.
            pass

    async def _connect_loop(self) -> None:
        """Connects with unlimited attempts; nats-py then reconnects the same way after drops."""
        assert self._nc is not None
        try:
            await self._nc.connect(
                servers=self._servers,
                name=self._name,
                connect_timeout=self._connect_timeout,  # type: ignore[arg-type]
                reconnect_time_wait=self._reconnect_time_wait,  # type: ignore[arg-type]
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
                closed_cb=self._on_closed,
                **self._nats_options,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.error("toolpath: cannot connect to NATS at %s; events will be dropped", self._servers, exc_info=True)
            return
        self._js = self._nc.jetstream(timeout=self._publish_timeout)
        self._on_connected()

    def _on_connected(self) -> None:
        nc = self._nc
        if nc is None:
            return
        try:
            self._server_max_payload = int(nc.max_payload)
        except Exception:
            pass
        self._error_logged = False
        logger.info("toolpath: connected to NATS %s", nc.connected_url.netloc if nc.connected_url else "")
        if self._connected is not None:
            self._connected.set()

    async def _on_error(self, exc: Exception) -> None:
        # nats-py reports every failed attempt; an outage would flood the log otherwise.
        if not self._error_logged:
            self._error_logged = True
            logger.warning("toolpath: NATS connection problem (%s: %s); retrying in the background",
                           type(exc).__name__, exc)
        else:
            logger.debug("toolpath: NATS error: %r", exc)

    async def _on_disconnected(self) -> None:
        if self._connected is not None:
            self._connected.clear()
        if not self._closing:
            logger.warning("toolpath: disconnected from NATS; buffering events while reconnecting")

    async def _on_reconnected(self) -> None:
        self._on_connected()

    async def _on_closed(self) -> None:
        if self._connected is not None:
            self._connected.clear()

    async def _next_item(self) -> _Item:
        assert self._wake is not None
        while True:
            with self._lock:
                if self._buffer:
                    self._in_flight += 1
                    return self._buffer.popleft()
                self._wake_requested = False
            self._wake.clear()
            await self._wake.wait()

    async def _publisher(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sem is not None
        while True:
            await self._sem.acquire()
            try:
                item = await self._next_item()
            except BaseException:
                self._sem.release()
                raise
            task = loop.create_task(self._send(item))
            self._sends[task] = item
            task.add_done_callback(functools.partial(self._send_done, item=item))

    def _send_done(self, task: "asyncio.Task[None]", *, item: _Item) -> None:
        """Bookkeeping in a done-callback, because a task cancelled before its first step
        (e.g. by ``asyncio.run()`` tearing the loop down) never runs its own ``finally``."""
        self._sends.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("toolpath: unexpected error publishing an event", exc_info=task.exception())
            if not item.settled:
                item.settled = True
                with self._lock:
                    self._counts["dropped_errors"] += 1
        with self._lock:
            self._in_flight -= 1
            if not item.settled:
                # Cancelled (close() ran out of time, or the loop is shutting down): keep the
                # event so close() counts it or the atexit hook can still deliver it.
                self._buffer.appendleft(item)
        if self._sem is not None:
            self._sem.release()

    def _settle(self, item: _Item, counter: str) -> None:
        item.settled = True
        with self._lock:
            self._counts[counter] += 1

    async def _send(self, item: _Item) -> None:
        """Delivers one event: waits for a connection, retries failures, then gives up."""
        attempt = 0
        while True:
            assert self._connected is not None
            if not self.is_connected:
                if self._connected.is_set():
                    # nats-py has changed state but not yet run disconnected_cb; waiting on a
                    # set Event would not yield, so poll briefly instead of spinning.
                    await asyncio.sleep(0.05)
                else:
                    await self._connected.wait()
                continue
            if item.wire_size > self._server_max_payload:
                self._settle(item, "too_large")
                logger.warning("toolpath: event of %d bytes exceeds the server's max_payload %d; dropped",
                               item.wire_size, self._server_max_payload)
                return
            try:
                assert self._js is not None
                await self._js.publish(
                    item.subject, item.payload, timeout=self._publish_timeout,
                    headers=dict(item.headers),
                )
            except asyncio.CancelledError:
                raise
            except nats.errors.MaxPayloadError:
                self._settle(item, "too_large")
                return
            except Exception as exc:
                attempt += 1
                if attempt > self._max_retries:
                    self._settle(item, "dropped_errors")
                    logger.warning("toolpath: dropping an event for %s after %d attempts: %s: %s",
                                   item.subject, attempt, type(exc).__name__, exc)
                    return
                delay = self._retry_backoff * (2 ** (attempt - 1))
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                continue
            self._settle(item, "published")
            return

    async def _stop_tasks(self) -> None:
        tasks: List["asyncio.Task[None]"] = [
            t for t in (self._publisher_task, self._connect_task) if t is not None
        ]
        tasks.extend(list(self._sends))
        await cancel_and_wait(tasks)

    def _atexit(self) -> None:
        """Interpreter exit: deliver what is still buffered, within ``exit_timeout``."""
        if self._closed:
            return
        loop = self._loop
        if (loop is not None and loop.is_running() and not loop.is_closed()
                and threading.get_ident() != self._loop_thread):
            fut = asyncio.run_coroutine_threadsafe(self.close(self._exit_timeout), loop)
            try:
                fut.result(self._exit_timeout + 3.0)
            except Exception:
                logger.warning("toolpath: flush at exit failed", exc_info=True)
            return
        # The application's loop is gone (asyncio.run() returned without close()): deliver the
        # buffer over a fresh connection on a helper thread.
        self._closing = True
        with self._lock:
            items = list(self._buffer)
            self._buffer.clear()
            # Sends stranded on a stopped (not cancelled) loop still hold their events.
            stranded = [i for i in list(self._sends.values()) if not i.settled]
            for i in stranded:
                i.settled = True
            items.extend(stranded)
            self._sends.clear()
            self._in_flight = 0
        if items:
            delivered = _deliver_on_fresh_connection(
                items, self._servers, self._connect_timeout, self._publish_timeout, self._exit_timeout
            )
            with self._lock:
                self._counts["published"] += delivered
                self._counts["dropped_errors"] += len(items) - delivered
            if delivered < len(items):
                logger.warning("toolpath: %d event(s) lost at exit", len(items) - delivered)
        self._closed = True


def _deliver_on_fresh_connection(
    items: List[_Item], servers: List[str], connect_timeout: float,
    publish_timeout: float, budget: float,
) -> int:
    """Publishes ``items`` from a new thread and loop; returns how many were acknowledged."""
    delivered = [0]

    async def run() -> None:
        nc = NATS()

        async def quiet(_: Exception) -> None:
            pass

        try:
            # max_reconnect_attempts=0 would mean "forever" in nats-py's server selection.
            await nc.connect(servers=servers, connect_timeout=connect_timeout,  # type: ignore[arg-type]
                             allow_reconnect=False, max_reconnect_attempts=1,
                             reconnect_time_wait=0.1, error_cb=quiet)  # type: ignore[arg-type]
        except Exception:
            return
        js = nc.jetstream(timeout=publish_timeout)
        sem = asyncio.Semaphore(256)

        async def one(item: _Item) -> None:
            async with sem:
                try:
                    await js.publish(item.subject, item.payload, headers=dict(item.headers))
                    delivered[0] += 1
                except Exception:
                    pass

        try:
            await asyncio.gather(*(one(i) for i in items))
        finally:
            await nc.close()

    def target() -> None:
        try:
            asyncio.run(asyncio.wait_for(run(), timeout=budget))
        except Exception:
            pass

    thread = threading.Thread(target=target, name="toolpath-exit-flush", daemon=True)
    thread.start()
    thread.join(budget + 1.0)
    return delivered[0]
