"""The tracker: one :class:`Session` per task, one ``tool_call`` event per step.

Toolpath learns from *sequences*: which tools a task called, in which order, with what
outcome. A session gives every event of one task the same ``sessionId`` and an increasing
``seq``, and closes with a ``session_end`` event carrying the task's intent, result and
overall success — the record the analyzer mines.

Two rules shape the code: the caller's exception is always re-raised untouched (tracking
must never change program behaviour), and a tracking problem (NATS down, an oversized
result) is logged and counted, never raised into the caller's request.
"""

from __future__ import annotations

import inspect
import logging
import threading
import math
import time
from collections.abc import Mapping
from types import TracebackType
from typing import (
    TYPE_CHECKING, Any, Awaitable, Callable, Literal, Optional, Tuple, Type, TypeVar, Union,
)

from . import events as _events
from .errors import EventTooLargeError, InvalidEventError, ToolpathError

if TYPE_CHECKING:  # pragma: no cover
    from typing import Protocol

    class _Publisher(Protocol):
        @property
        def tenant_id(self) -> str: ...

        def publish(self, event: Mapping[str, Any]) -> bool: ...
else:
    _Publisher = Any

__all__ = ["Session", "Step"]

logger = logging.getLogger("toolpath")

T = TypeVar("T")
_MAX_TEXT = 10_000


def describe_exception(exc: BaseException) -> str:
    """``"ValueError: bad input"``: the type tells the analyzer *how* a step failed."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    return _clip_str(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def _clip_str(text: str) -> str:
    """The contract caps ``error`` and ``intent`` at 10,000 characters."""
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _clip(text: Optional[str]) -> Optional[str]:
    return None if text is None else _clip_str(text)


def _check_call(tool: Any, parameters: Any) -> None:
    """Refuses a malformed step before the tool runs, so a bug shows up in development."""
    if not isinstance(tool, str) or not tool or len(tool) > _events.MAX_TOOL_NAME_LENGTH:
        raise InvalidEventError(
            "tool", f"must be a non-empty string of at most {_events.MAX_TOOL_NAME_LENGTH} characters"
        )
    if parameters is not None:
        if not isinstance(parameters, Mapping):
            raise InvalidEventError("parameters", f"must be a dict, got {type(parameters).__name__}")
        for key in parameters:
            if not isinstance(key, str):
                raise InvalidEventError("parameters", f"keys must be strings, got {key!r}")


class Session:
    """Tracks one task (a request, an agent run) and publishes its events.

    Create it with ``client.session(intent=...)`` and use it as ``with`` or ``async with``.
    Steps are recorded with :meth:`track` / :meth:`atrack` (wrap a call), :meth:`step` (wrap a
    block) or :meth:`record` (report a call that already happened). On exit a ``session_end``
    event is published; its ``success`` is ``False`` when an exception escaped the block, or
    when a step failed and :meth:`set_result` was not called to say otherwise.

    All methods are thread-safe; ``seq`` is assigned when a step *starts*, so concurrent
    steps are ordered by their start.
    """

    def __init__(
        self,
        client: "_Publisher",
        *,
        intent: Optional[str] = None,
        session_id: Optional[str] = None,
        user_id: Optional[str] = None,
        agent_id: Optional[str] = None,
        source: Optional[str] = None,
        run_id: Optional[str] = None,
    ) -> None:
        if intent is not None and not isinstance(intent, str):
            raise InvalidEventError("intent", f"must be a string, got {type(intent).__name__}")
        probe = {"sessionId": session_id, "userId": user_id, "agentId": agent_id,
                 "source": source, "runId": run_id}
        for field, value in probe.items():
            if value is not None and (not isinstance(value, str) or not value or len(value) > 256):
                raise InvalidEventError(field, "must be a non-empty string of at most 256 characters")
        self._client = client
        self.session_id: str = session_id or _events.new_event_id()
        self.intent = _clip(intent)
        self.user_id = user_id
        self.agent_id = agent_id
        self.source = source
        self.run_id = run_id
        self._lock = threading.Lock()
        self._seq = 0
        self._any_step_failed = False
        self._explicit: Optional[Tuple[Any, bool]] = None
        self._ended = False
        # Latest end (epoch seconds) of a recorded call: the session_end is stamped no earlier.
        self._last_call_end = float("-inf")

    # --- steps --------------------------------------------------------------------------------

    def track(self, tool: str, parameters: Optional[Mapping[str, Any]],
              fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Calls ``fn(*args, **kwargs)`` and publishes a ``tool_call`` event for it.

        Returns what ``fn`` returns; an exception is recorded (type and message) and re-raised
        unchanged. For coroutine functions use :meth:`atrack`.
        """
        _check_call(tool, parameters)
        if inspect.iscoroutinefunction(fn):
            raise TypeError("track() got a coroutine function; use `await session.atrack(...)`")
        seq, wall, t0 = self._next_seq(), time.time(), time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_call(tool, parameters, seq, wall, t0, False, None, describe_exception(exc))
            raise
        self._record_call(tool, parameters, seq, wall, t0, True, result, None)
        return result

    async def atrack(self, tool: str, parameters: Optional[Mapping[str, Any]],
                     fn: Union[Callable[..., Any], Awaitable[Any]], /,
                     *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`track`, for a coroutine function, a plain function or an awaitable.

        ``await session.atrack("search", {"q": q}, search, q)`` times the whole await, so the
        duration is the tool's latency as the caller experienced it.
        """
        _check_call(tool, parameters)
        seq, wall, t0 = self._next_seq(), time.time(), time.perf_counter()
        try:
            if inspect.isawaitable(fn):
                if args or kwargs:
                    raise TypeError("atrack() got an awaitable and arguments; pass a function instead")
                result = await fn
            else:
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except BaseException as exc:  # includes CancelledError: a cancelled call did not succeed
            self._record_call(tool, parameters, seq, wall, t0, False, None, describe_exception(exc))
            raise
        self._record_call(tool, parameters, seq, wall, t0, True, result, None)
        return result

    def step(self, tool: str, parameters: Optional[Mapping[str, Any]] = None) -> "Step":
        """A block as one tool call: ``with session.step("fs.read", {...}) as s: s.result = x``."""
        _check_call(tool, parameters)
        return Step(self, tool, parameters)

    def record(
        self,
        tool: str,
        parameters: Optional[Mapping[str, Any]] = None,
        *,
        result: Any = None,
        success: bool = True,
        error: Optional[str] = None,
        duration_ms: float = 0.0,
        started_at: Optional[float] = None,
    ) -> None:
        """Reports a call that already happened (e.g. one made by an LLM runtime)."""
        _check_call(tool, parameters)
        started = time.time() - duration_ms / 1000.0 if started_at is None else started_at
        self._publish_call(tool, parameters, self._next_seq(), started, max(0.0, float(duration_ms)),
                           bool(success), result, _clip(error))

    def set_result(self, result: Any, success: bool = True) -> None:
        """Sets the task's outcome for ``session_end`` (overrides failed steps, not exceptions)."""
        with self._lock:
            self._explicit = (result, bool(success))

    @property
    def failed_steps(self) -> bool:
        """Whether any recorded step failed so far."""
        return self._any_step_failed

    # --- lifecycle ----------------------------------------------------------------------------

    def end(self, exc: Optional[BaseException] = None) -> None:
        """Publishes ``session_end`` once; called by ``with``/``async with`` on exit."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            explicit = self._explicit
            seq = self._seq
            self._seq += 1
        if explicit is not None:
            result, success = explicit
        else:
            result, success = None, not self._any_step_failed
        error = None
        if exc is not None:
            success = False
            error = describe_exception(exc)
        # Stamped with the time the session ended (durationMs 0), never its start: in time order
        # too it comes after every call of the session. Whole milliseconds, rounded up.
        end_ms = math.ceil(max(time.time(), self._last_call_end) * 1000.0)
        self._emit(_events.session_end_event(
            tenant_id=self._client.tenant_id, session_id=self.session_id, success=success,
            started_at=end_ms / 1000.0, duration_ms=0, result=result,
            error=error, seq=seq, user_id=self.user_id, agent_id=self.agent_id,
            intent=self.intent, source=self.source, run_id=self.run_id,
        ))

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        self.end(exc)
        return False  # never swallow the caller's exception

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> Literal[False]:
        self.end(exc)
        return False

    # --- internals ----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        with self._lock:
            seq = self._seq
            self._seq += 1
            return seq

    def _record_call(self, tool: str, parameters: Optional[Mapping[str, Any]], seq: int,
                     wall: float, t0: float, success: bool, result: Any,
                     error: Optional[str]) -> None:
        duration = round((time.perf_counter() - t0) * 1000.0, 3)
        self._publish_call(tool, parameters, seq, wall, duration, success, result, error)

    def _publish_call(self, tool: str, parameters: Optional[Mapping[str, Any]], seq: int,
                      wall: float, duration_ms: float, success: bool, result: Any,
                      error: Optional[str]) -> None:
        if not success:
            self._any_step_failed = True
        with self._lock:
            self._last_call_end = max(self._last_call_end, wall + duration_ms / 1000.0)
        self._emit(_events.tool_call_event(
            tenant_id=self._client.tenant_id, session_id=self.session_id, tool=tool,
            success=success, started_at=wall, duration_ms=duration_ms,
            parameters=parameters, result=result, error=error, seq=seq,
            user_id=self.user_id, agent_id=self.agent_id, intent=self.intent,
            source=self.source, run_id=self.run_id,
        ))

    def _emit(self, event: _events.Event) -> None:
        """Publishes without ever raising into the tracked code.

        An oversized event is retried once with its result replaced by a marker, so the
        sequence keeps its step (order matters more to mining than one result's content).
        """
        try:
            self._client.publish(event)
        except EventTooLargeError as exc:
            if event.get("result") is None:
                logger.warning("toolpath: %s event for %r dropped: %s", event["kind"], event.get("tool"), exc)
                return
            slim = dict(event, result=f"[result omitted: the event was {exc.size} bytes, over the {exc.limit}-byte limit]")
            try:
                self._client.publish(slim)
                logger.warning("toolpath: result of %r omitted: %s", event.get("tool"), exc)
            except ToolpathError as exc2:
                logger.warning("toolpath: %s event for %r dropped: %s", event["kind"], event.get("tool"), exc2)
        except Exception:
            logger.exception("toolpath: could not publish a %s event", event.get("kind"))


class Step:
    """A block tracked as one tool call; set :attr:`result` (and optionally :attr:`success`
    or :attr:`error`) inside it. An exception marks the step failed and propagates."""

    def __init__(self, session: Session, tool: str, parameters: Optional[Mapping[str, Any]]) -> None:
        self._session = session
        self.tool = tool
        self.parameters = parameters
        self.result: Any = None
        #: ``None`` means "decide from exceptions and :attr:`error`".
        self.success: Optional[bool] = None
        self.error: Optional[str] = None
        self.seq: Optional[int] = None
        self._wall = 0.0
        self._t0 = 0.0

    def fail(self, error: Union[str, BaseException]) -> None:
        """Marks the step failed without raising (e.g. a tool returned an error payload)."""
        self.success = False
        self.error = describe_exception(error) if isinstance(error, BaseException) else _clip(str(error))

    def __enter__(self) -> "Step":
        self.seq = self._session._next_seq()
        self._wall, self._t0 = time.time(), time.perf_counter()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        error: Optional[str]
        if exc is not None:
            success, error = False, describe_exception(exc)
        else:
            success = self.success if self.success is not None else self.error is None
            error = _clip(self.error)
        assert self.seq is not None
        self._session._record_call(self.tool, self.parameters, self.seq, self._wall, self._t0,
                                   success, self.result, error)
        return False

    async def __aenter__(self) -> "Step":
        return self.__enter__()

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)
