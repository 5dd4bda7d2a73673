"""Session tracker on the sync client: events, ordering, failure paths."""

from __future__ import annotations

import datetime as dt

import pytest

from toolpath import InvalidEventError, Toolpath

from .conftest import TENANT


def client_for(stream, **kw):
    return Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix, **kw)


def test_round_trip_tool_calls_then_session_end(stream):
    with client_for(stream, source="files-api") as client:
        with client.session(intent="list my files", user_id="u1", agent_id="qwen") as s:
            listing = s.track("fs.ls", {"path": "/home"}, lambda path: ["a.txt", "b.txt"], "/home")
            assert listing == ["a.txt", "b.txt"]
            with s.step("fs.read", {"path": "/home/a.txt"}) as step:
                step.result = {"bytes": 3, "when": dt.date(2026, 11, 21)}
            s.record("llm.answer", {"model": "m"}, result="2 files", duration_ms=40)
            s.set_result("Found 2 files")
        assert client.flush(5)
    msgs = stream.messages(4)
    events = [m.data for m in msgs]

    assert [e["seq"] for e in events] == [0, 1, 2, 3]
    assert [e["kind"] for e in events] == ["tool_call"] * 3 + ["session_end"]
    assert [e.get("tool") for e in events] == ["fs.ls", "fs.read", "llm.answer", None]
    assert {e["sessionId"] for e in events} == {s.session_id}
    for e in events:
        assert e["tenantId"] == TENANT and e["userId"] == "u1" and e["agentId"] == "qwen"
        assert e["source"] == "files-api" and e["intent"] == "list my files"
        assert e["success"] is True and e["durationMs"] >= 0 and "error" not in e
        assert msgs[0].headers["Nats-Msg-Id"] == f"{TENANT}:{events[0]['eventId']}"
    assert events[0]["parameters"] == {"path": "/home"}
    assert events[0]["result"] == ["a.txt", "b.txt"]
    assert events[1]["result"] == {"bytes": 3, "when": "2026-11-21"}
    assert events[2]["durationMs"] == 40
    end = events[3]
    assert end["result"] == "Found 2 files"
    # Stamped with the session's end (after every call's end), never its start.
    assert end["durationMs"] == 0
    parse = lambda t: dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000.0
    assert parse(end["startedAt"]) >= max(parse(e["startedAt"]) + e["durationMs"] for e in events[:3]) - 1e-6


def test_failure_is_recorded_and_reraised(stream):
    def boom(x):
        raise ValueError(f"bad {x}")

    with client_for(stream) as client:
        with pytest.raises(ValueError, match="bad 7"):
            with client.session(intent="will fail") as s:
                s.track("ok.tool", {}, lambda: 1)
                s.track("bad.tool", {"x": 7}, boom, 7)
                pytest.fail("not reached")
        client.flush(5)
    ok, bad, end = (m.data for m in stream.messages(3))
    assert ok["success"] is True and ok["seq"] == 0
    assert bad["success"] is False and bad["seq"] == 1
    assert bad["error"] == "ValueError: bad 7" and "result" not in bad
    assert end["kind"] == "session_end" and end["seq"] == 2
    assert end["success"] is False and end["error"] == "ValueError: bad 7"


def test_step_failure_marks_session_unless_result_set_explicitly(stream):
    with client_for(stream) as client:
        with client.session(intent="recovers") as s1:
            with pytest.raises(KeyError):
                with s1.step("cache.get", {"k": "a"}):
                    raise KeyError("a")
            with s1.step("db.get", {"k": "a"}) as step:
                step.fail("not found")
        with client.session(intent="recovers, says so") as s2:
            with pytest.raises(OSError):
                s2.track("net.fetch", None, _raise_os_error)
            s2.set_result({"fallback": True}, success=True)
        client.flush(5)
    events = [m.data for m in stream.messages(6)]
    first = [e for e in events if e["sessionId"] == s1.session_id]
    second = [e for e in events if e["sessionId"] == s2.session_id]
    assert [e["success"] for e in first] == [False, False, False]
    assert first[0]["error"] == "KeyError: 'a'" and first[1]["error"] == "not found"
    assert first[2]["kind"] == "session_end" and "error" not in first[2]
    assert [e["success"] for e in second] == [False, True]
    assert second[1]["result"] == {"fallback": True}
    assert "parameters" not in second[0]


def _raise_os_error():
    raise OSError("unreachable")


def test_bad_step_is_refused_before_the_tool_runs(stream):
    ran = []
    with client_for(stream) as client:
        with client.session() as s:
            with pytest.raises(InvalidEventError, match="tool"):
                s.track("", {}, ran.append, 1)
            with pytest.raises(InvalidEventError, match="parameters"):
                s.track("t", ["not", "a", "dict"], ran.append, 1)
            with pytest.raises(TypeError, match="atrack"):
                s.track("t", {}, _coro)
    assert ran == []


async def _coro():
    return 1
