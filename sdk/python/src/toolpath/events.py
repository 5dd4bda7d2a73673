"""Building, validating and encoding tool-call events (contract v1, see docs/ARCHITECTURE.md#tool-call-events-v1).

Events are plain ``dict`` objects with the camelCase field names of the wire format, so what
a caller builds is exactly what the recorder receives. Validation happens here, on the
producer side, because the recorder parks an invalid event in ``rejected_events`` where the
producer never sees it: failing loudly at the call site is the cheaper place to find a bug.
The limits mirror ``libs/contracts/src/events.ts``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import re
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Dict, Optional, Set, Union

from .errors import EventTooLargeError, InvalidEventError

__all__ = [
    "SPEC_VERSION",
    "MAX_EVENT_BYTES",
    "MAX_TOOL_NAME_LENGTH",
    "MAX_EVENT_ID_LENGTH",
    "TENANT_ID_PATTERN",
    "Event",
    "new_event_id",
    "format_timestamp",
    "events_subject",
    "msg_id",
    "validate_tenant_id",
    "validate_subject_prefix",
    "validate_event",
    "encode_event",
    "tool_call_event",
    "session_end_event",
]

#: The only contract version this SDK speaks.
SPEC_VERSION = "1"
#: NATS' default ``max_payload``; the contract caps an encoded event at this size.
MAX_EVENT_BYTES = 1024 * 1024
MAX_TOOL_NAME_LENGTH = 200
MAX_EVENT_ID_LENGTH = 128
#: ``tenantId`` is a NATS subject token, hence the restricted alphabet.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBJECT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_ISO_PATTERN = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
_MAX_EPOCH_MS = 8_640_000_000_000_000
_MAX_ID_LENGTH = 256
_MAX_TEXT_LENGTH = 10_000

#: An event on the wire: a JSON object with the v1 field names.
Event = Dict[str, Any]

_KINDS = ("tool_call", "session_end")
_REQUIRED = ("specVersion", "kind", "eventId", "tenantId", "sessionId", "success", "startedAt", "durationMs")
_OPTIONAL_IDS = ("userId", "agentId", "source", "runId", "stepId")
_OPTIONAL_TEXT = ("error", "intent")
_KNOWN_FIELDS = frozenset(
    _REQUIRED + _OPTIONAL_IDS + _OPTIONAL_TEXT + ("seq", "tool", "parameters", "result")
)


def new_event_id() -> str:
    """A fresh producer-side event id (uuid4 hex, 32 chars).

    Producers generate ids so that a retried publish carries the same id and JetStream
    (``Nats-Msg-Id``) and the recorder can drop the duplicate.
    """
    return uuid.uuid4().hex


def format_timestamp(value: Union[None, float, _dt.datetime] = None) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-21T10:00:00.123Z``.

    Accepts ``None`` (now), epoch seconds (``time.time()``) or a datetime; a naive datetime
    is taken to be UTC, because local time would silently shift ordering across hosts.
    """
    if value is None:
        value = time.time()
    if isinstance(value, _dt.datetime):
        dt = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        dt = dt.astimezone(_dt.timezone.utc)
    else:
        dt = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def events_subject(prefix: str, tenant_id: str) -> str:
    """``<prefix>.events.<tenantId>``: where a tenant's events are published."""
    return f"{prefix}.events.{tenant_id}"


def msg_id(tenant_id: str, event_id: str) -> str:
    """The ``Nats-Msg-Id`` header value and the recorder's natural key."""
    return f"{tenant_id}:{event_id}"


def validate_tenant_id(tenant_id: Any, field: str = "tenantId") -> str:
    """Returns ``tenant_id`` or raises :class:`InvalidEventError` naming ``field``."""
    if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.match(tenant_id):
        raise InvalidEventError(
            field, f"{tenant_id!r} must match ^[A-Za-z0-9_-]{{1,64}}$ (it is a NATS subject token)"
        )
    return tenant_id


def validate_subject_prefix(prefix: Any) -> str:
    """The prefix becomes the head of a subject, so it must be made of safe tokens."""
    if not isinstance(prefix, str) or not _SUBJECT_PREFIX_PATTERN.match(prefix):
        raise InvalidEventError(
            "subject_prefix", f"{prefix!r} must be dot-separated tokens of [A-Za-z0-9_-]"
        )
    return prefix


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_id(event: Mapping[str, Any], field: str, max_len: int, required: bool) -> None:
    if field not in event or event[field] is None:
        if required:
            raise InvalidEventError(field, "is required")
        return
    value = event[field]
    if not isinstance(value, str) or not value:
        raise InvalidEventError(field, f"must be a non-empty string, got {type(value).__name__}")
    if len(value) > max_len:
        raise InvalidEventError(field, f"is {len(value)} characters, at most {max_len} allowed")


def validate_event(event: Mapping[str, Any]) -> None:
    """Checks ``event`` against contract v1; raises :class:`InvalidEventError` naming the field.

    Unknown fields are refused: the recorder would silently strip them, so a typo such as
    ``user_id`` would otherwise lose data without anyone noticing.
    """
    if not isinstance(event, Mapping):
        raise InvalidEventError("(root)", f"an event must be a dict, got {type(event).__name__}")
    unknown = sorted(k for k in event if k not in _KNOWN_FIELDS)
    if unknown:
        raise InvalidEventError(unknown[0], "is not a v1 event field (names are camelCase)")

    if event.get("specVersion") != SPEC_VERSION:
        raise InvalidEventError("specVersion", f'must be "{SPEC_VERSION}", got {event.get("specVersion")!r}')
    kind = event.get("kind")
    if kind not in _KINDS:
        raise InvalidEventError("kind", f"must be one of {_KINDS}, got {kind!r}")
    _check_id(event, "eventId", MAX_EVENT_ID_LENGTH, required=True)
    if "tenantId" not in event:
        raise InvalidEventError("tenantId", "is required")
    validate_tenant_id(event["tenantId"])
    _check_id(event, "sessionId", _MAX_ID_LENGTH, required=True)
    for field in _OPTIONAL_IDS:
        _check_id(event, field, _MAX_ID_LENGTH, required=False)

    if "seq" in event and event["seq"] is not None:
        seq = event["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise InvalidEventError("seq", f"must be an integer >= 0, got {seq!r}")

    tool = event.get("tool")
    if tool is None:
        if kind == "tool_call":
            raise InvalidEventError("tool", "is required for a tool_call event")
    elif not isinstance(tool, str) or not tool or len(tool) > MAX_TOOL_NAME_LENGTH:
        raise InvalidEventError("tool", f"must be a non-empty string of at most {MAX_TOOL_NAME_LENGTH} characters")

    params = event.get("parameters")
    if params is not None:
        if not isinstance(params, Mapping):
            raise InvalidEventError("parameters", f"must be a dict, got {type(params).__name__}")
        bad = [k for k in params if not isinstance(k, str)]
        if bad:
            raise InvalidEventError("parameters", f"keys must be strings, got {bad[0]!r}")

    if not isinstance(event.get("success"), bool):
        raise InvalidEventError("success", f"must be a bool, got {event.get('success')!r}")

    for field in _OPTIONAL_TEXT:
        value = event.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidEventError(field, f"must be a string, got {type(value).__name__}")
        if len(value) > _MAX_TEXT_LENGTH:
            raise InvalidEventError(field, f"is {len(value)} characters, at most {_MAX_TEXT_LENGTH} allowed")

    started = event.get("startedAt")
    if isinstance(started, str):
        if not _ISO_PATTERN.match(started):
            raise InvalidEventError("startedAt", f"{started!r} is not ISO-8601 with a UTC offset (e.g. 2026-11-21T10:00:00.123Z)")
    elif _is_number(started):
        if not isinstance(started, int) or not 0 <= started <= _MAX_EPOCH_MS:
            raise InvalidEventError("startedAt", "epoch milliseconds must be a non-negative integer")
    else:
        raise InvalidEventError("startedAt", "is required: an ISO-8601 string or epoch milliseconds")

    duration: Any = event.get("durationMs")
    if not _is_number(duration) or not math.isfinite(duration) or duration < 0:
        raise InvalidEventError("durationMs", f"must be a finite number >= 0, got {duration!r}")


# --- JSON -------------------------------------------------------------------------------------

def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not lose the whole event
        return f"<unprintable {type(value).__name__}>"


def _json_default(value: Any) -> Any:
    """``json.dumps(default=...)``: keep common types meaningful, ``str()`` everything else.

    Results come from arbitrary tool functions; refusing to record a call because its result
    holds a datetime or a custom object would make the SDK a hazard to adopt.
    """
    if isinstance(value, _dt.datetime):
        return format_timestamp(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            return dataclasses.asdict(value)
        except Exception:
            return _safe_str(value)
    dump = getattr(value, "model_dump", None)  # pydantic v2 models (FastAPI)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            return _safe_str(value)
    return _safe_str(value)


def _sanitize(value: Any, seen: Set[int], depth: int = 0) -> Any:
    """Slow path: rebuild ``value`` as plain JSON, breaking what the fast path choked on.

    Handles NaN/Infinity (invalid JSON that the recorder would reject), non-string dict keys,
    reference cycles and absurd nesting.
    """
    if depth > 200:
        return "<nested too deeply>"
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dict, list, tuple, set, frozenset)) or isinstance(value, Mapping):
        if id(value) in seen:
            return "<circular reference>"
        seen.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {
                    (k if isinstance(k, str) else _safe_str(k)): _sanitize(v, seen, depth + 1)
                    for k, v in value.items()
                }
            return [_sanitize(v, seen, depth + 1) for v in value]
        finally:
            seen.discard(id(value))
    converted = _json_default(value)
    if isinstance(converted, str):
        return converted
    return _sanitize(converted, seen, depth + 1)


def to_json_bytes(value: Any) -> bytes:
    """Encodes any Python value as compact UTF-8 JSON without ever raising."""
    try:
        text = json.dumps(value, default=_json_default, ensure_ascii=False,
                          separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(_sanitize(value, set()), default=_safe_str, ensure_ascii=False,
                          separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def encode_event(event: Mapping[str, Any], limit: int = MAX_EVENT_BYTES) -> bytes:
    """Validates and encodes ``event``; raises :class:`EventTooLargeError` above ``limit``."""
    validate_event(event)
    data = to_json_bytes({k: v for k, v in event.items() if v is not None})
    if len(data) > limit:
        raise EventTooLargeError(len(data), limit)
    return data


# --- builders ---------------------------------------------------------------------------------

def _base(
    kind: str,
    *,
    tenant_id: str,
    session_id: str,
    success: bool,
    started_at: Union[None, str, float, _dt.datetime],
    duration_ms: float,
    **optional: Any,
) -> Event:
    started = started_at if isinstance(started_at, str) else format_timestamp(started_at)
    event: Event = {
        "specVersion": SPEC_VERSION,
        "kind": kind,
        "eventId": optional.pop("event_id", None) or new_event_id(),
        "tenantId": tenant_id,
        "sessionId": session_id,
        "success": success,
        "startedAt": started,
        "durationMs": duration_ms,
    }
    names = {
        "user_id": "userId", "agent_id": "agentId", "seq": "seq", "tool": "tool",
        "parameters": "parameters", "result": "result", "error": "error", "intent": "intent",
        "source": "source", "run_id": "runId", "step_id": "stepId",
    }
    for py_name, value in optional.items():
        if py_name not in names:
            raise TypeError(f"unexpected keyword argument {py_name!r}")
        if value is not None:
            event[names[py_name]] = value
    return event


def tool_call_event(
    *,
    tenant_id: str,
    session_id: str,
    tool: str,
    success: bool,
    started_at: Union[None, str, float, _dt.datetime] = None,
    duration_ms: float = 0,
    parameters: Optional[Mapping[str, Any]] = None,
    result: Any = None,
    error: Optional[str] = None,
    seq: Optional[int] = None,
    user_id: Optional[str] = None,
    agent_id: Optional[str] = None,
    intent: Optional[str] = None,
    source: Optional[str] = None,
    run_id: Optional[str] = None,
    step_id: Optional[str] = None,
    event_id: Optional[str] = None,
) -> Event:
    """Builds (does not validate) a ``tool_call`` event from snake_case arguments."""
    return _base(
        "tool_call", tenant_id=tenant_id, session_id=session_id, success=success,
        started_at=started_at, duration_ms=duration_ms, tool=tool,
        parameters=dict(parameters) if parameters is not None else None, result=result,
        error=error, seq=seq, user_id=user_id, agent_id=agent_id, intent=intent, source=source,
        run_id=run_id, step_id=step_id, event_id=event_id,
    )


def session_end_event(
    *,
    tenant_id: str,
    session_id: str,
    success: bool,
    started_at: Union[None, str, float, _dt.datetime] = None,
    duration_ms: float = 0,
    result: Any = None,
    error: Optional[str] = None,
    seq: Optional[int] = None,
    user_id: Optional[str] = None,
    agent_id: Optional[str] = None,
    intent: Optional[str] = None,
    source: Optional[str] = None,
    run_id: Optional[str] = None,
    event_id: Optional[str] = None,
) -> Event:
    """Builds (does not validate) a ``session_end`` event: the whole task's outcome."""
    return _base(
        "session_end", tenant_id=tenant_id, session_id=session_id, success=success,
        started_at=started_at, duration_ms=duration_ms, result=result, error=error, seq=seq,
        user_id=user_id, agent_id=agent_id, intent=intent, source=source, run_id=run_id,
        event_id=event_id,
    )
