"""The client against a real JetStream: delivery, headers, dedupe, limits, outages."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest

from toolpath import (
    MAX_EVENT_BYTES,
    AsyncToolpath,
    EventTooLargeError,
    InvalidEventError,
    Toolpath,
    new_event_id,
    tool_call_event,
)
from toolpath.events import encode_event

from .conftest import TENANT, free_port

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def raw_event(**overrides):
    event = {
        "kind": "tool_call",
        "sessionId": "sess-1",
        "userId": "u-1",
        "agentId": "agent-7",
        "seq": 0,
        "tool": "web.search",
        "parameters": {"q": "nats jetstream", "limit": 3},
        "result": [{"title": "JetStream"}],
        "success": True,
        "startedAt": "2026-11-21T10:00:00.123Z",
        "durationMs": 12.5,
        "intent": "find docs",
        "runId": "run-1",
        "stepId": "step-a",
    }
    event.update(overrides)
    return event


async def test_published_event_arrives_with_subject_header_and_fields(stream):
    async with AsyncToolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix,
                             source="search-api") as client:
        assert client.is_connected
        assert client.publish(raw_event()) is True
        assert await client.flush(5)
        assert client.stats["published"] == 1 and client.stats["pending"] == 0

    [msg] = await asyncio.to_thread(stream.messages, 1)
    assert msg.subject == f"{stream.prefix}.events.{TENANT}"
    data = msg.data
    assert msg.headers["Nats-Msg-Id"] == f"{TENANT}:{data['eventId']}"
    assert data["specVersion"] == "1" and data["tenantId"] == TENANT
    assert data["source"] == "search-api"
    assert 0 < len(data["eventId"]) <= 128
    expected = raw_event()
    for key, value in expected.items():
        assert data[key] == value, key
    assert set(data) == set(expected) | {"specVersion", "eventId", "tenantId", "source"}


async def test_startedat_datetime_is_formatted(stream):
    import datetime as dt

    async with AsyncToolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        client.publish(raw_event(startedAt=dt.datetime.now(dt.timezone.utc)))
        await client.flush(5)
    [msg] = await asyncio.to_thread(stream.messages, 1)
    assert ISO_MS.match(msg.data["startedAt"])


def test_duplicate_event_id_is_stored_once(stream):
    event = tool_call_event(tenant_id=TENANT, session_id="s", tool="t", success=True, seq=0)
    with Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        assert client.publish(event)
        assert client.publish(dict(event))  # a retry of the same event
        assert client.flush(5)
        assert client.stats["published"] == 2  # both acknowledged by the stream...
    msgs = stream.messages(1)
    time.sleep(0.2)
    assert len(stream.messages(1)) == len(msgs) == 1  # ...which kept one
    assert msgs[0].data["eventId"] == event["eventId"]


def test_too_large_event_is_refused_and_counted(stream):
    with Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        with pytest.raises(EventTooLargeError) as info:
            client.publish(raw_event(result="x" * (MAX_EVENT_BYTES + 1)))
        err = info.value
        assert err.limit == 1_048_576 and err.size > err.limit
        assert f"{err.size} bytes" in str(err) and "1048576" in str(err)
        assert client.stats["too_large"] == 1 and client.stats["pending"] == 0

        # Under 1 MB, but not once the Nats-Msg-Id header is added: the server would drop the
        # whole connection, so the SDK refuses it too and the connection survives.
        assert client.wait_connected(5)
        head = dict(raw_event(result=""), eventId="e" * 32, specVersion="1", tenantId=TENANT)
        filler = MAX_EVENT_BYTES - 10 - len(encode_event(head))
        ev = dict(head, result="y" * filler)
        size = len(encode_event(ev))
        assert MAX_EVENT_BYTES - 50 < size <= MAX_EVENT_BYTES
        with pytest.raises(EventTooLargeError, match="headers"):
            client.publish(ev)
        assert client.stats["too_large"] == 2

        assert client.publish(raw_event())
        assert client.flush(5)
        assert client.stats["published"] == 1 and client.is_connected
    assert len(stream.messages(1)) == 1


def test_tracker_survives_an_oversized_result(stream):
    with Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        with client.session(intent="big") as s:
            got = s.track("dump", {}, lambda: "z" * (2 * MAX_EVENT_BYTES))
        assert len(got) == 2 * MAX_EVENT_BYTES  # the caller still gets its result
        client.flush(5)
        assert client.stats["too_large"] == 1
    call, end = stream.messages(2)
    assert call.data["tool"] == "dump" and call.data["success"] is True
    assert call.data["result"].startswith("[result omitted")
    assert end.data["kind"] == "session_end"


def test_invalid_tenant_id_is_rejected_naming_the_field(stream):
    for bad in ("has space", "a.b", "", "x" * 65, "tenant*"):
        with pytest.raises(InvalidEventError) as info:
            Toolpath(bad, servers=stream.url, flush_at_exit=False)
        assert "tenantId" in str(info.value) and "tenantId" in info.value.field
        with pytest.raises(InvalidEventError, match="tenantId"):
            AsyncToolpath(bad, servers=stream.url)
    with Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        with pytest.raises(InvalidEventError) as info:
            client.publish(raw_event(tenantId="evil.>"))
        assert info.value.field == "tenantId"
        with pytest.raises(InvalidEventError) as info:
            client.publish(raw_event(durationMs=-5))
        assert info.value.field == "durationMs"
    with pytest.raises(InvalidEventError, match="subject_prefix"):
        AsyncToolpath(TENANT, subject_prefix="bad prefix")


async def test_buffer_full_drops_and_counts_without_blocking(unreachable_url):
    client = AsyncToolpath(TENANT, servers=unreachable_url, max_buffer=5,
                           connect_timeout=0.2, reconnect_time_wait=0.1)
    t0 = time.perf_counter()
    assert await client.connect(timeout=0.3) is False  # constructs and connects anyway
    results = [client.publish(raw_event(seq=i)) for i in range(100)]
    elapsed = time.perf_counter() - t0
    assert results == [True] * 5 + [False] * 95
    stats = client.stats
    assert stats["dropped_buffer_full"] == 95 and stats["pending"] == 5
    assert stats["published"] == 0 and stats["connected"] is False
    assert elapsed < 2.0

    t1 = time.perf_counter()
    await client.close(timeout=0.2)
    assert time.perf_counter() - t1 < 3.0  # shutting down is bounded too
    stats = client.stats
    assert stats["dropped_errors"] == 5 and stats["pending"] == 0
    assert client.publish(raw_event()) is False  # after close: dropped, never raised
    assert client.stats["dropped_errors"] == 6


def test_sync_buffer_full_never_blocks(unreachable_url):
    t0 = time.perf_counter()
    client = Toolpath(TENANT, servers=unreachable_url, max_buffer=3, connect_timeout=0.2,
                      reconnect_time_wait=0.1)
    assert [client.publish(raw_event(seq=i)) for i in range(10)].count(True) == 3
    assert time.perf_counter() - t0 < 1.0
    assert client.flush(0.2) is False
    client.close(0.2)
    assert time.perf_counter() - t0 < 5.0
    stats = client.stats
    assert stats["dropped_buffer_full"] == 7 and stats["dropped_errors"] == 3


def test_sync_publish_is_thread_safe(stream):
    threads_n, per_thread = 8, 250
    with Toolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        def work(t: int) -> None:
            for i in range(per_thread):
                client.publish(raw_event(sessionId=f"s{t}", seq=i))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert client.flush(20)
        assert client.stats["published"] == threads_n * per_thread
    msgs = stream.messages(threads_n * per_thread)
    assert len(msgs) == threads_n * per_thread
    assert len({m.data["eventId"] for m in msgs}) == threads_n * per_thread


def test_events_wait_for_a_late_server_and_survive_an_outage(nats_url, nats_server_factory, tmp_path):
    from .conftest import new_stream_ref

    port = free_port()
    server = nats_server_factory(port, tmp_path / "store")
    # Create the (file-backed) stream, then take the server down: the stream survives restarts.
    server.start()
    ref = new_stream_ref(server.url)
    from nats.js.api import StorageType

    ref.create(StorageType.FILE)
    server.stop()

    client = Toolpath(TENANT, servers=server.url, subject_prefix=ref.prefix,
                      connect_timeout=0.5, reconnect_time_wait=0.2)
    try:
        for i in range(3):
            assert client.publish(raw_event(seq=i))
        assert client.flush(0.5) is False
        assert client.stats["pending"] == 3 and client.stats["connected"] is False

        server.start()
        assert client.flush(15), client.stats
        assert client.stats["published"] == 3

        server.stop()  # an outage after the connection was up
        time.sleep(0.3)
        for i in range(3, 5):
            assert client.publish(raw_event(seq=i))
        server.start()
        assert client.flush(20), client.stats
        assert client.stats["published"] == 5 and client.stats["dropped_errors"] == 0
    finally:
        client.close(2)
    msgs = ref.messages(5)
    assert sorted(m.data["seq"] for m in msgs) == [0, 1, 2, 3, 4]
    ref.delete()


def test_event_ids_are_unique():
    assert len({new_event_id() for _ in range(1000)}) == 1000
