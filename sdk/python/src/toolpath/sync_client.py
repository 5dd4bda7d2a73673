"""Synchronous client for threaded servers (Flask, Django, plain scripts).

Why a private event loop on a daemon thread: nats-py is asyncio-only, and a WSGI worker has
no loop to lend. The thread owns one :class:`AsyncToolpath`; request threads only append to
its lock-protected buffer, so ``publish()`` never waits for the network. An ``atexit`` hook
flushes the buffer (with a bound) before the interpreter tears the daemon thread down.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Dict, Optional, Sequence, Type, TypeVar, Union

from .async_client import AsyncToolpath
from ._tasks import cancel_and_wait
from .session import Session

if TYPE_CHECKING:
    from .tools import SyncToolServer

__all__ = ["Toolpath"]

logger = logging.getLogger("toolpath")
T = TypeVar("T")


class Toolpath:
    """Publishes tool-call events from synchronous code; safe to share between threads.

    Constructing it never blocks on NATS: the background thread connects (and keeps
    retrying) while events queue up to ``max_buffer``. Takes the same options as
    :class:`AsyncToolpath`, and ``flush_at_exit`` / ``exit_timeout`` for the ``atexit`` hook.

    Create it once per process. Under a pre-forking server (gunicorn ``--preload``) a client
    inherited through ``fork()`` notices the new pid and starts a fresh background thread.
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
        self._options: Dict[str, Any] = dict(
            servers=servers, subject_prefix=subject_prefix, source=source, max_buffer=max_buffer,
            max_in_flight=max_in_flight, publish_timeout=publish_timeout, max_retries=max_retries,
            retry_backoff=retry_backoff, connect_timeout=connect_timeout,
            reconnect_time_wait=reconnect_time_wait, name=name, nats_options=nats_options,
        )
        self._tenant_id = tenant_id
        self._exit_timeout = float(exit_timeout)
        self._closed = False
        self._fork_lock = threading.Lock()
        # Validates the options before any thread exists, so bad config fails fast.
        self._core = AsyncToolpath(tenant_id, flush_at_exit=False, **self._options)
        self._start(self._core)
        self._flush_at_exit = flush_at_exit
        if flush_at_exit:
            atexit.register(self._atexit)

    # --- public API ---------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        return self._core.tenant_id

    @property
    def source(self) -> Optional[str]:
        return self._core.source

    @property
    def subject_prefix(self) -> str:
        return self._core.subject_prefix

    @property
    def stats(self) -> Dict[str, Any]:
        """See :attr:`AsyncToolpath.stats`."""
        return self._core.stats

    @property
    def is_connected(self) -> bool:
        return self._core.is_connected

    def publish(self, event: Mapping[str, Any]) -> bool:
        """Thread-safe, non-blocking; see :meth:`AsyncToolpath.publish`."""
        self._check_fork()
        return self._core.publish(event)

    def wait_connected(self, timeout: float = 2.0) -> bool:
        """Blocks up to ``timeout`` seconds for a NATS connection (handy at startup)."""
        return bool(self._call(self._core.wait_connected(timeout), timeout, default=False))

    def flush(self, timeout: float = 5.0) -> bool:
        """Blocks until everything queued is acknowledged or dropped, at most ``timeout`` s."""
        return bool(self._call(self._core.flush(timeout), timeout, default=False))

    def close(self, timeout: float = 5.0) -> None:
        """Flushes (bounded by ``timeout``), disconnects and stops the background thread."""
        if self._closed:
            return
        self._closed = True
        if self._flush_at_exit:
            atexit.unregister(self._atexit)
        if self._pid != os.getpid():
            return  # the thread belongs to the parent process
        self._call(self._core.close(timeout), timeout + 3.0, default=None)
        try:
            self._loop.call_soon_threadsafe(self._loop.stop)
        except RuntimeError:
            pass
        self._thread.join(2.0)

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
        """A tracker for one task; use as ``with client.session(intent=...) as s:``."""
        return Session(
            self, intent=intent, session_id=session_id, user_id=user_id,
            agent_id=agent_id, source=source or self.source, run_id=run_id,
        )

    def serve_tool(self, definition: Mapping[str, Any], handler: Callable[..., Any],
                   **options: Any) -> "SyncToolServer":
        """Serves a tool over NATS on this client's connection and background loop, and
        announces it; see :func:`toolpath.tools.serve_tool_sync`. Stop it before ``close()``."""
        from .tools import serve_tool_sync

        return serve_tool_sync(self, definition, handler, **options)

    def __enter__(self) -> "Toolpath":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close(self._exit_timeout)

    # --- internals ----------------------------------------------------------------------------

    def _start(self, core: AsyncToolpath) -> None:
        self._pid = os.getpid()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, args=(self._loop,), name="toolpath-publisher", daemon=True
        )
        self._thread.start()
        # Do not wait: the constructor must not depend on NATS being up.
        asyncio.run_coroutine_threadsafe(core.connect(timeout=0), self._loop)

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                if pending:
                    loop.run_until_complete(cancel_and_wait(pending))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float, default: T) -> T:
        """Runs ``coro`` on the background loop and waits for it, at most ``timeout`` + 1 s."""
        self._check_fork()
        if threading.get_ident() == self._thread.ident:
            coro.close()
            raise RuntimeError("cannot block on the Toolpath loop from its own thread")
        if not self._thread.is_alive():
            coro.close()
            return default
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(max(0.0, timeout) + 1.0)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            return default

    def _check_fork(self) -> None:
        if self._pid == os.getpid():
            return
        with self._fork_lock:
            if self._pid != os.getpid() and not self._closed:
                # The parent's thread and loop did not survive fork(); its buffer is the
                # parent's to deliver. Start over with an empty client in this process.
                self._core = AsyncToolpath(self._tenant_id, flush_at_exit=False, **self._options)
                self._start(self._core)

    def _atexit(self) -> None:
        try:
            self.close(self._exit_timeout)
        except Exception:  # never turn interpreter exit into a traceback
            logger.warning("toolpath: flush at exit failed", exc_info=True)
