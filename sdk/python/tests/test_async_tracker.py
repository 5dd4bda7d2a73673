"""Session tracker on the asyncio client."""

from __future__ import annotations

import asyncio

import pytest

from toolpath import AsyncToolpath

from .conftest import TENANT


async def fetch(url: str, delay: float = 0.01) -> dict:
    await asyncio.sleep(delay)
    return {"url": url, "status": 200}


def parse(doc: dict) -> str:
    return f"status {doc['status']}"


async def test_async_round_trip(stream):
    async with AsyncToolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        async with client.session(intent="fetch and parse", session_id="req-42") as s:
            doc = await s.atrack("http.get", {"url": "https://x"}, fetch, "https://x", delay=0.05)
            text = await s.atrack("parse", {}, parse, doc)  # a plain function is fine too
            again = await s.atrack("http.get", {"url": "https://y"}, fetch("https://y"))
            async with s.step("summarise", {"n": 2}) as step:
                step.result = [text, again["url"]]
        assert await client.flush(5)
    events = [m.data for m in await asyncio.to_thread(stream.messages, 5)]
    assert [e["seq"] for e in events] == [0, 1, 2, 3, 4]
    assert [e.get("tool") for e in events] == ["http.get", "parse", "http.get", "summarise", None]
    assert all(e["sessionId"] == "req-42" and e["success"] is True for e in events)
    assert events[0]["result"] == {"url": "https://x", "status": 200}
    assert events[0]["durationMs"] >= 45  # the await is timed
    assert events[1]["result"] == "status 200"
    assert events[3]["result"] == ["status 200", "https://y"]
    assert events[4]["kind"] == "session_end" and events[4]["intent"] == "fetch and parse"


async def test_async_failure_is_recorded_and_reraised(stream):
    async def explode():
        await asyncio.sleep(0)
        raise RuntimeError("upstream 503")

    async with AsyncToolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        with pytest.raises(RuntimeError, match="upstream 503"):
            async with client.session(intent="fails") as s:
                await s.atrack("http.get", {"url": "u"}, fetch, "u")
                await s.atrack("http.post", {"url": "u"}, explode)
        await client.flush(5)
    ok, bad, end = (m.data for m in await asyncio.to_thread(stream.messages, 3))
    assert ok["success"] is True
    assert bad["success"] is False and bad["error"] == "RuntimeError: upstream 503"
    assert end["kind"] == "session_end" and end["success"] is False
    assert end["error"] == "RuntimeError: upstream 503" and end["seq"] == 2


async def test_concurrent_steps_get_distinct_seqs(stream):
    async with AsyncToolpath(TENANT, servers=stream.url, subject_prefix=stream.prefix) as client:
        async with client.session(intent="fan out") as s:
            await asyncio.gather(*(s.atrack("http.get", {"i": i}, fetch, str(i)) for i in range(10)))
        await client.flush(5)
    events = [m.data for m in await asyncio.to_thread(stream.messages, 11)]
    assert sorted(e["seq"] for e in events) == list(range(11))
    assert max(events, key=lambda e: e["seq"])["kind"] == "session_end"
