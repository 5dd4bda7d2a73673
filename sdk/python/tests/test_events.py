"""Event building, validation and encoding (no NATS needed)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import pytest

from toolpath import (
    MAX_EVENT_BYTES,
    EventTooLargeError,
    InvalidEventError,
    encode_event,
    format_timestamp,
    session_end_event,
    tool_call_event,
    validate_event,
)

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def make(**overrides):
    event = tool_call_event(tenant_id="acme", session_id="s1", tool="fs.read", success=True,
                            parameters={"path": "/a"}, result={"ok": 1}, seq=0, duration_ms=1.5)
    event.update(overrides)
    return event


def test_builder_produces_valid_v1_event():
    event = make()
    validate_event(event)
    assert event["specVersion"] == "1"
    assert event["kind"] == "tool_call"
    assert len(event["eventId"]) <= 128
    assert ISO_MS.match(event["startedAt"])
    end = session_end_event(tenant_id="acme", session_id="s1", success=False, intent="x", seq=3)
    validate_event(end)
    assert "tool" not in end


def test_format_timestamp_is_utc_with_milliseconds():
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1.2345) == "1970-01-01T00:00:01.234Z"
    aware = dt.datetime(2026, 11, 21, 11, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert format_timestamp(aware) == "2026-11-21T10:00:00.123Z"
    assert format_timestamp(dt.datetime(2026, 11, 21, 10, 0, 0, 5000)) == "2026-11-21T10:00:00.005Z"


@pytest.mark.parametrize(
    "field,value",
    [
        ("tenantId", "has space"),
        ("tenantId", "a" * 65),
        ("tenantId", "dot.ted"),
        ("tenantId", ""),
        ("kind", "other"),
        ("specVersion", "2"),
        ("eventId", "x" * 129),
        ("eventId", ""),
        ("sessionId", None),
        ("seq", -1),
        ("seq", True),
        ("tool", ""),
        ("tool", "t" * 201),
        ("parameters", ["not", "a", "dict"]),
        ("success", "yes"),
        ("startedAt", "yesterday"),
        ("startedAt", None),
        ("durationMs", -1),
        ("durationMs", math.inf),
        ("error", 42),
        ("intent", "i" * 10_001),
        ("user_id", "typo"),
    ],
)
def test_invalid_fields_are_named(field, value):
    event = make(**{field: value})
    with pytest.raises(InvalidEventError) as info:
        validate_event(event)
    assert info.value.field == field
    assert field in str(info.value)


def test_tool_is_required_for_tool_call_only():
    event = make()
    del event["tool"]
    with pytest.raises(InvalidEventError, match="tool"):
        validate_event(event)
    validate_event(dict(event, kind="session_end"))


def test_epoch_millis_and_offsets_are_accepted():
    validate_event(make(startedAt=1_790_000_000_000))
    validate_event(make(startedAt="2026-11-21T10:00:00+02:00"))
    validate_event(make(tool="résumé ✓"))


def test_encoding_never_crashes_on_odd_results():
    class Thing:
        def __str__(self):
            return "a thing"

    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    loop = []
    loop.append(loop)
    result = {
        "obj": Thing(),
        "broken": Broken(),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "set": {1},
        "bytes": b"hi",
        "nan": float("nan"),
        "inf": [float("inf")],
        (1, 2): "tuple key",
        "loop": loop,
    }
    data = json.loads(encode_event(make(result=result)))
    got = data["result"]
    assert got["obj"] == "a thing"
    assert got["broken"] == "<unprintable Broken>"
    assert got["when"] == "2026-01-02T03:04:05.000Z"
    assert got["set"] == [1]
    assert got["bytes"] == "hi"
    assert got["nan"] is None and got["inf"] == [None]
    assert got["(1, 2)"] == "tuple key"
    assert got["loop"] == ["<circular reference>"]


def test_encoding_is_compact_utf8_and_omits_none():
    data = encode_event(make(result="ünïcode", error=None))
    assert "ünïcode".encode() in data
    assert b'"error"' not in data and b", " not in data


def test_too_large_names_size_and_limit():
    with pytest.raises(EventTooLargeError) as info:
        encode_event(make(result="x" * MAX_EVENT_BYTES))
    assert info.value.limit == MAX_EVENT_BYTES == 1_048_576
    assert info.value.size > MAX_EVENT_BYTES
    assert str(info.value.size) in str(info.value) and "1048576" in str(info.value)
