"""Registry liveness with real providers: serve_tool heartbeats, readers list only live tools.

Short TTLs stand in for the 30 s default; every wait is a bounded poll of what the registry
says, never a sleep-then-assert.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import time
from typing import Any, Awaitable, Callable, Dict, List

import nats
import pytest

from toolpath import DEFAULT_TOOL_HEARTBEAT, DEFAULT_TOOL_TTL, ToolRegistry, format_timestamp, serve_tool, tool_registry_bucket
from toolpath.tools import _is_live, _parse_entry

from .conftest import run_async

HEARTBEAT = 0.1
TTL = 1.0


def definition(name: str) -> Dict[str, Any]:
    return {"name": name, "description": f"the {name} tool", "inputSchema": {"type": "object"}}


async def wait_until(probe: Callable[[], Awaitable[Any]], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def names(registry: ToolRegistry) -> List[str]:
    return [e["name"] for e in await registry.list()]


async def test_dead_provider_drops_out_and_describe_says_expired(nats_url: str, prefix: str) -> None:
    reader, provider = await nats.connect(nats_url), await nats.connect(nats_url)
    try:
        registry = ToolRegistry(reader, prefix)
        server = await serve_tool(provider, definition("crm.lookup"), lambda p, c: "ok", prefix=prefix,
                                  heartbeat=HEARTBEAT, ttl=TTL)
        first = await registry.get("crm.lookup")
        assert first is not None and "expiresAt" in first and first["provider"]["sdk"] == "python"
        await wait_until(lambda: _newer(registry, "crm.lookup", first["updatedAt"]), "a heartbeat")

        await provider.close()  # a crash: no stop(), no more heartbeats
        # Waits by describe (one key read): see test_bucket_from_before_liveness_keeps_working.
        await wait_until(lambda: _state_is(registry, "crm.lookup", "expired"), "the dead provider to expire")
        assert await _absent(registry, "crm.lookup")
        assert await registry.get("crm.lookup") is None
        d = await registry.describe("crm.lookup")
        assert d["state"] == "expired" and d["entry"]["name"] == "crm.lookup"
        assert d["message"].startswith("tool crm.lookup expired at ")
        assert [e["name"] for e in await registry.list(include_expired=True)] == ["crm.lookup"]
        assert (await registry.describe("never.served"))["state"] == "absent"
        await server.stop(0.1)
    finally:
        await reader.close()
        if not provider.is_closed:
            await provider.close()


async def test_tool_stays_listed_while_any_instance_heartbeats(nats_url: str, prefix: str) -> None:
    reader, a, b = await nats.connect(nats_url), await nats.connect(nats_url), await nats.connect(nats_url)
    try:
        registry = ToolRegistry(reader, prefix)
        sa = await serve_tool(a, definition("lb.echo"), lambda p, c: "a", prefix=prefix, heartbeat=HEARTBEAT, ttl=TTL)
        sb = await serve_tool(b, definition("lb.echo"), lambda p, c: "b", prefix=prefix, heartbeat=HEARTBEAT, ttl=TTL)
        await a.close()
        crashed_at = time.time()
        misses = {"n": 0}

        async def written_after_a_would_have_expired() -> bool:
            # Only instance B can have written the entry more than a TTL after A died; every
            # poll on the way must still find the tool live.
            e = await registry.get("lb.echo")
            if e is None:
                misses["n"] += 1
                return False
            return _ts(e["updatedAt"]) > crashed_at + TTL

        await wait_until(written_after_a_would_have_expired, "the surviving instance to keep the entry live")
        assert misses["n"] == 0
        assert await names(registry) == ["lb.echo"]
        await sa.stop(0.1)
        await sb.stop(0.1)
    finally:
        for c in (reader, a, b):
            if not c.is_closed:
                await c.close()


async def test_stop_leaves_entry_to_expire_and_restart_reappears(nats_url: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        registry = ToolRegistry(nc, prefix)
        server = await serve_tool(nc, definition("billing.refund"), lambda p, c: 1, prefix=prefix,
                                  heartbeat=HEARTBEAT, ttl=TTL)
        await server.stop()
        assert (await registry.describe("billing.refund"))["state"] == "live"  # never deleted by a stop
        await wait_until(lambda: _state_is(registry, "billing.refund", "expired"), "expiry after stop")
        assert await names(registry) == []

        again = await serve_tool(nc, definition("billing.refund"), lambda p, c: 1, prefix=prefix,
                                 heartbeat=HEARTBEAT, ttl=TTL)
        assert await names(registry) == ["billing.refund"]
        await again.stop()
    finally:
        await nc.close()


async def test_ttl_counts_from_when_the_registry_stored_the_entry(nats_url: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        registry = ToolRegistry(nc, prefix)
        await registry.announce(definition("static.first"))  # creates the bucket
        kv = await nc.jetstream().key_value(tool_registry_bucket(prefix))

        async def write(name: str, skew: float, ttl: float) -> None:
            at = time.time() + skew
            await kv.put(name, json.dumps({**definition(name), "updatedAt": format_timestamp(at),
                                           "expiresAt": format_timestamp(at + ttl),
                                           "provider": {"id": name, "sdk": "python"}}).encode())

        # Ten minutes behind: by its own clock long expired, yet just written.
        await write("slow.clock", -600, 30)
        # Ten minutes ahead with a 1 s TTL: by its own clock live for ten more minutes.
        await write("fast.clock", 600, 1)
        slow = await registry.describe("slow.clock")
        assert slow["state"] == "live"
        expires = _dt.datetime.fromisoformat(slow["entry"]["expiresAt"].replace("Z", "+00:00")).timestamp()
        assert abs(expires - (time.time() + 30)) < 2
        assert (await registry.get("fast.clock")) is not None
        await wait_until(lambda: _state_is(registry, "fast.clock", "expired"), "the fast-clock entry to expire", 5)
        assert (await registry.describe("static.first"))["state"] == "live"
        await kv.delete("slow.clock")
        assert (await registry.describe("slow.clock"))["state"] == "absent"
    finally:
        await nc.close()


async def test_bucket_from_before_liveness_keeps_working(nats_url: str, prefix: str) -> None:
    nc, provider = await nats.connect(nats_url), await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        kv = await js.create_key_value(bucket=tool_registry_bucket(prefix), history=1)  # no TTL: the old format
        await kv.put("legacy.tool", json.dumps({"name": "legacy.tool", "description": "old sdk", "inputSchema": {},
                                                "updatedAt": "2025-01-01T00:00:00.000Z"}).encode())
        registry = ToolRegistry(nc, prefix)
        await registry.announce(definition("static.tool"))  # no ttl: static
        server = await serve_tool(provider, definition("fresh.tool"), lambda p, c: 1, prefix=prefix,
                                  heartbeat=HEARTBEAT, ttl=TTL)
        assert await names(registry) == ["fresh.tool", "legacy.tool", "static.tool"]
        await provider.close()
        # By describe (one key read), not by list: nats-py's key listing can miss a key that is
        # being rewritten at that moment, which the heartbeat does every 0.1 s here.
        await wait_until(lambda: _state_is(registry, "fresh.tool", "expired"), "the dead provider to expire")
        assert await names(registry) == ["legacy.tool", "static.tool"]
        assert "static registration" in (await registry.describe("legacy.tool"))["message"]
        info = await js.stream_info(f"KV_{tool_registry_bucket(prefix)}")
        assert not info.config.max_age and info.config.max_msgs_per_subject == 1  # left as it was
        await server.stop(0.1)
    finally:
        await nc.close()
        if not provider.is_closed:
            await provider.close()


async def test_bad_timings_are_refused(nats_url: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(ValueError, match=r"invalid liveness timings.*ttl \(1\.0\) larger"):
            await serve_tool(nc, definition("bad.timing"), lambda p, c: 1, prefix=prefix, heartbeat=1.0, ttl=1.0)
        with pytest.raises(ValueError, match="invalid ttl"):
            await ToolRegistry(nc, prefix).announce(definition("bad.ttl"), ttl=0)
    finally:
        await nc.close()
    assert DEFAULT_TOOL_TTL > DEFAULT_TOOL_HEARTBEAT


def test_expires_at_parsing() -> None:
    base = {"name": "a", "description": "d", "inputSchema": {}, "updatedAt": "2026-01-01T00:00:00Z"}

    def at(expires: Any = None) -> Dict[str, Any]:
        raw = dict(base, **({} if expires is None else {"expiresAt": expires}))
        entry = _parse_entry(json.dumps(raw).encode())
        assert entry is not None
        return entry

    now = _ts("2026-01-01T00:00:10Z")
    assert _is_live(at(), now)
    assert _is_live(at("2026-01-01T00:00:30.000Z"), now)  # the TypeScript SDK's format
    assert not _is_live(at("2026-01-01T00:00:05Z"), now)
    assert not _is_live(at("soon"), now)


def _ts(text: str) -> float:
    from toolpath.tools import _parse_time

    t = _parse_time(text)
    assert t is not None
    return t


async def _newer(registry: ToolRegistry, name: str, than: str) -> bool:
    e = await registry.get(name)
    return e is not None and _ts(e["updatedAt"]) > _ts(than)


async def _absent(registry: ToolRegistry, name: str) -> bool:
    return name not in await names(registry)


async def _state_is(registry: ToolRegistry, name: str, state: str) -> bool:
    return (await registry.describe(name))["state"] == state
