"""Tools over NATS: serve_tool / call_tool / ToolRegistry against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Dict, List

import nats
import pytest

from toolpath import (
    AsyncToolpath,
    Toolpath,
    ToolCallError,
    ToolContext,
    ToolError,
    ToolRegistry,
    call_tool,
    serve_tool,
    tool_subject,
)

from .conftest import TENANT, run_async


def definition(name: str, **over: Any) -> Dict[str, Any]:
    d: Dict[str, Any] = {"name": name, "description": f"the {name} tool", "inputSchema": {"type": "object"}}
    d.update(over)
    return d


def ctx(**over: Any) -> Dict[str, Any]:
    c: Dict[str, Any] = {"tenantId": TENANT, "runId": "r1", "stepId": "s1", "attempt": 1,
                         "deadline": time.time() * 1000 + 5000}
    c.update(over)
    return c


async def expect_call_error(coro: Any) -> ToolCallError:
    with pytest.raises(ToolCallError) as info:
        await coro
    return info.value


async def test_round_trip_and_announce(nats_url: str, prefix: str) -> None:
    seen: Dict[str, Any] = {}

    async def add(params: Dict[str, Any], context: ToolContext) -> int:
        seen["params"], seen["ctx"] = params, context
        return int(params["a"]) + int(params["b"])

    async with AsyncToolpath(TENANT, servers=nats_url, subject_prefix=prefix) as provider:
        await provider.connect()
        server = await serve_tool(provider, definition("math.add", outputSchema={"type": "number"}), add)
        assert server.subject == tool_subject(prefix, "math.add") and server.queue_group == "toolpath-tools"
        nc = await nats.connect(nats_url)
        try:
            c = ctx(attempt=2)
            assert await call_tool(nc, prefix, "math.add", {"a": 2, "b": 3}, c, 3) == 5
            assert seen["params"] == {"a": 2, "b": 3}
            assert (seen["ctx"].tenant_id, seen["ctx"].run_id, seen["ctx"].step_id, seen["ctx"].attempt) == (TENANT, "r1", "s1", 2)
            assert seen["ctx"].deadline == c["deadline"] and not seen["ctx"].cancelled.is_set()
            entry = await ToolRegistry(nc, prefix).get("math.add")
            assert entry is not None
            assert entry["description"] == "the math.add tool" and entry["outputSchema"] == {"type": "number"}
            assert entry["provider"]["sdk"] == "python" and entry["updatedAt"].endswith("Z")
            # call_tool also takes the client itself
            assert await call_tool(provider, prefix, "math.add", {"a": 1, "b": 1}, ctx(), 3) == 2
        finally:
            await nc.close()
        assert server.stats["ok"] == 2
        await server.stop()


async def test_queue_group_shares_load(nats_url: str, prefix: str) -> None:
    hits = {"a": 0, "b": 0}

    def handler(who: str) -> Any:
        def h(params: Dict[str, Any], context: ToolContext) -> Dict[str, Any]:
            hits[who] += 1
            return {"by": who}
        return h

    nc1, nc2, caller = await nats.connect(nats_url), await nats.connect(nats_url), await nats.connect(nats_url)
    try:
        s1 = await serve_tool(nc1, definition("lb.echo"), handler("a"), prefix=prefix)
        s2 = await serve_tool(nc2, definition("lb.echo"), handler("b"), prefix=prefix, announce=False)
        results = await asyncio.gather(*(call_tool(caller, prefix, "lb.echo", {"i": i}, ctx(), 5) for i in range(60)))
        assert len(results) == 60 and hits["a"] + hits["b"] == 60
        assert hits["a"] > 0 and hits["b"] > 0
        await s1.stop()
        await s2.stop()
    finally:
        for c in (nc1, nc2, caller):
            await c.close()


async def test_bad_request_is_not_retryable(nats_url: str, prefix: str) -> None:
    calls: List[Any] = []
    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("strict.tool"), lambda p, c: calls.append(p) or "ok",
                                  prefix=prefix, announce=False)
        bodies = [b"not json", json.dumps({"parameters": {}}).encode(),
                  json.dumps({"parameters": [], "context": ctx()}).encode(),
                  json.dumps({"parameters": {}, "context": ctx(tenantId="a.b")}).encode(),
                  json.dumps({"parameters": {}, "context": ctx(attempt=0)}).encode()]
        for body in bodies:
            reply = json.loads((await nc.request(tool_subject(prefix, "strict.tool"), body, timeout=3)).data)
            assert reply["ok"] is False and reply["error"]["retryable"] is False
            assert reply["error"]["message"].startswith("invalid tool request")
        assert calls == []
        assert await call_tool(nc, prefix, "strict.tool", {}, ctx(), 3) == "ok"
        assert server.stats["bad_requests"] == 5
        await server.stop()
    finally:
        await nc.close()


async def test_handler_errors_carry_retryable(nats_url: str, prefix: str) -> None:
    class Flagged(Exception):
        retryable = True

    async def handler(params: Dict[str, Any], context: ToolContext) -> Any:
        kind = params["kind"]
        if kind == "retry":
            raise ToolError("busy, try later", retryable=True)
        if kind == "final":
            raise ToolError("no such invoice")
        if kind == "flagged":
            raise Flagged("flagged")
        raise RuntimeError("generic failure")

    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("fail.tool"), handler, prefix=prefix, announce=False)
        expected = {"retry": ("busy, try later", True), "final": ("no such invoice", False),
                    "flagged": ("flagged", True), "generic": ("generic failure", False)}
        for kind, (message, retryable) in expected.items():
            err = await expect_call_error(call_tool(nc, prefix, "fail.tool", {"kind": kind}, ctx(), 3))
            assert (err.code, err.message, err.retryable) == ("tool_error", message, retryable)
        # a sync handler that raises is handled the same way
        sync_server = await serve_tool(nc, definition("fail.sync"), lambda p, c: 1 / 0, prefix=prefix, announce=False)
        err = await expect_call_error(call_tool(nc, prefix, "fail.sync", {}, ctx(), 3))
        assert err.code == "tool_error" and err.retryable is False and "division" in err.message
        await server.stop()
        await sync_server.stop()
    finally:
        await nc.close()


async def test_deadline_cancels_handler_with_retryable_timeout(nats_url: str, prefix: str) -> None:
    state: Dict[str, Any] = {}

    async def slow(params: Dict[str, Any], context: ToolContext) -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        return "too late"

    def slow_sync(params: Dict[str, Any], context: ToolContext) -> str:
        state["sync_saw_cancel"] = context.cancelled.wait(5)
        return "late"

    nc = await nats.connect(nats_url)
    try:
        s1 = await serve_tool(nc, definition("slow.tool"), slow, prefix=prefix, announce=False)
        s2 = await serve_tool(nc, definition("slow.sync"), slow_sync, prefix=prefix, announce=False)
        for name in ("slow.tool", "slow.sync"):
            started = time.monotonic()
            err = await expect_call_error(call_tool(nc, prefix, name, {}, ctx(deadline=time.time() * 1000 + 300), 3))
            assert err.code == "tool_error" and err.retryable is True and "deadline" in err.message
            assert time.monotonic() - started < 2
        await asyncio.sleep(0.1)
        assert state == {"cancelled": True, "sync_saw_cancel": True}
        late = await expect_call_error(call_tool(nc, prefix, "slow.tool", {}, ctx(deadline=time.time() * 1000 - 1), 3))
        assert late.code == "tool_error" and late.retryable is True
        await s1.stop()
        await s2.stop()
    finally:
        await nc.close()


async def test_oversized_and_awkward_results(nats_url: str, prefix: str) -> None:
    def handler(params: Dict[str, Any], context: ToolContext) -> Any:
        if params["kind"] == "big":
            return {"blob": "x" * 1_200_000}
        if params["kind"] == "none":
            return None
        circ: Dict[str, Any] = {"when": __import__("datetime").date(2026, 1, 2), "s": {1, 2}}
        circ["self"] = circ
        return circ

    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("big.tool"), handler, prefix=prefix, announce=False)
        err = await expect_call_error(call_tool(nc, prefix, "big.tool", {"kind": "big"}, ctx(), 3))
        assert (err.code, err.message, err.retryable) == ("tool_error", "result too large", False)
        assert await call_tool(nc, prefix, "big.tool", {"kind": "none"}, ctx(), 3) is None
        odd = await call_tool(nc, prefix, "big.tool", {"kind": "odd"}, ctx(), 3)
        assert odd["when"] == "2026-01-02" and sorted(odd["s"]) == [1, 2] and odd["self"] == "<circular reference>"
        assert server.stats["too_large"] == 1
        await server.stop()
    finally:
        await nc.close()


async def test_concurrency_limit(nats_url: str, prefix: str) -> None:
    active = {"now": 0, "peak": 0}

    async def handler(params: Dict[str, Any], context: ToolContext) -> bool:
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
        await asyncio.sleep(0.02)
        active["now"] -= 1
        return True

    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("serial.tool"), handler, prefix=prefix, announce=False, concurrency=2)
        await asyncio.gather(*(call_tool(nc, prefix, "serial.tool", {}, ctx(), 5) for _ in range(10)))
        assert active["peak"] == 2
        await server.stop()
    finally:
        await nc.close()


async def test_dedupe_returns_stored_result_and_duplicates_wait(nats_url: str, prefix: str) -> None:
    effects: List[str] = []
    gate = asyncio.Event()

    async def charge(params: Dict[str, Any], context: ToolContext) -> Dict[str, Any]:
        effects.append(f"{context.tenant_id}:{context.idempotency_key or '-'}:{context.attempt_kind or '-'}")
        if params["amount"] == 1:
            await gate.wait()
        if params["amount"] < 0:
            raise ToolError("declined", retryable=True)
        return {"charged": params["amount"], "n": len(effects)}

    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("dedupe.charge"), charge, prefix=prefix, announce=False, dedupe=True)
        key = ctx(idempotencyKey="run-1/charge", attemptKind="first")
        # The first call still runs when its duplicate (a takeover) arrives: the duplicate waits.
        first = asyncio.ensure_future(call_tool(nc, prefix, "dedupe.charge", {"amount": 1}, key, 5))
        for _ in range(200):
            if effects:
                break
            await asyncio.sleep(0.01)
        duplicate = asyncio.ensure_future(call_tool(nc, prefix, "dedupe.charge", {"amount": 1},
                                                    {**key, "attempt": 2, "attemptKind": "takeover"}, 5))
        for _ in range(200):
            if server.stats["received"] == 2:
                break
            await asyncio.sleep(0.01)
        gate.set()
        assert await first == {"charged": 1, "n": 1}
        assert await duplicate == {"charged": 1, "n": 1}
        # Completed: answered again from the stored result.
        again = await call_tool(nc, prefix, "dedupe.charge", {"amount": 1}, {**key, "attempt": 3, "attemptKind": "retry"}, 5)
        assert again == {"charged": 1, "n": 1}
        assert effects == ["acme:run-1/charge:first"]
        assert server.stats["received"] == 3 and server.stats["ok"] == 1 and server.stats["deduplicated"] == 2
        # Another key, another tenant, or no key: the handler runs.
        await call_tool(nc, prefix, "dedupe.charge", {"amount": 2}, ctx(idempotencyKey="run-2/charge"), 5)
        await call_tool(nc, prefix, "dedupe.charge", {"amount": 2}, ctx(tenantId="other", idempotencyKey="run-1/charge"), 5)
        await call_tool(nc, prefix, "dedupe.charge", {"amount": 2}, ctx(), 5)
        await call_tool(nc, prefix, "dedupe.charge", {"amount": 2}, ctx(), 5)
        assert [e.rsplit(":", 1)[0] for e in effects] == [
            "acme:run-1/charge", "acme:run-2/charge", "other:run-1/charge", "acme:-", "acme:-"]
        # A failure is not kept: the retry runs the handler again.
        failing = ctx(idempotencyKey="run-3/charge")
        for attempt in (1, 2):
            err = await expect_call_error(call_tool(nc, prefix, "dedupe.charge", {"amount": -1}, {**failing, "attempt": attempt}, 5))
            assert err.retryable
        assert len([e for e in effects if e.startswith("acme:run-3/charge")]) == 2
        await server.stop(0.1)
    finally:
        await nc.close()


async def test_dedupe_off_by_default_and_bounded(nats_url: str, prefix: str) -> None:
    calls = {"plain": 0, "bounded": 0}

    def plain(params: Dict[str, Any], context: ToolContext) -> int:
        calls["plain"] += 1
        return calls["plain"]

    def bounded(params: Dict[str, Any], context: ToolContext) -> int:
        calls["bounded"] += 1
        return calls["bounded"]

    nc = await nats.connect(nats_url)
    try:
        off = await serve_tool(nc, definition("dedupe.off"), plain, prefix=prefix, announce=False)
        for _ in range(2):
            await call_tool(nc, prefix, "dedupe.off", {}, ctx(idempotencyKey="same"), 5)
        assert calls["plain"] == 2

        on = await serve_tool(nc, definition("dedupe.bounded"), bounded, prefix=prefix, announce=False,
                              dedupe={"ttl": 0.3, "max_entries": 2})

        async def call(key: str) -> Any:
            return await call_tool(nc, prefix, "dedupe.bounded", {}, ctx(idempotencyKey=key), 5)

        assert [await call("a"), await call("a"), await call("b"), await call("c")] == [1, 1, 2, 3]
        assert await call("b") == 2  # still kept
        assert await call("a") == 4  # the third key dropped the oldest
        await asyncio.sleep(0.4)  # past the TTL every result is gone
        assert await call("a") == 5
        with pytest.raises(ValueError, match="invalid dedupe options"):
            await serve_tool(nc, definition("dedupe.bad"), plain, prefix=prefix, announce=False, dedupe={"ttl": 0})
        await off.stop(0.1)
        await on.stop(0.1)
    finally:
        await nc.close()


async def test_call_tool_errors(nats_url: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        err = await expect_call_error(call_tool(nc, prefix, "nobody.home", {}, ctx(), 2))
        assert (err.code, err.retryable) == ("no_provider", True)

        async def hang(params: Dict[str, Any], context: ToolContext) -> None:
            await asyncio.sleep(60)

        server = await serve_tool(nc, definition("hang.tool"), hang, prefix=prefix, announce=False)
        started = time.monotonic()
        err = await expect_call_error(call_tool(nc, prefix, "hang.tool", {}, ctx(deadline=time.time() * 1000 + 60_000), 0.25))
        assert (err.code, err.retryable) == ("timeout", True) and time.monotonic() - started < 2

        async def rogue(msg: Any) -> None:
            await msg.respond(b'{"ok":"yes"}')

        sub = await nc.subscribe(tool_subject(prefix, "rogue.tool"), cb=rogue)
        err = await expect_call_error(call_tool(nc, prefix, "rogue.tool", {}, ctx(), 2))
        assert (err.code, err.retryable) == ("bad_reply", False)
        await sub.unsubscribe()

        for bad in (call_tool(nc, prefix, "x", {}, ctx(tenantId="no spaces"), 2),
                    call_tool(nc, prefix, "bad..name", {}, ctx(), 2)):
            err = await expect_call_error(bad)
            assert (err.code, err.retryable) == ("request_failed", False)
        await server.stop(0.1)
    finally:
        await nc.close()


async def test_stop_drains_then_aborts_stragglers(nats_url: str, prefix: str) -> None:
    async def brief(params: Dict[str, Any], context: ToolContext) -> str:
        await asyncio.sleep(0.2)
        return "done"

    async def stuck(params: Dict[str, Any], context: ToolContext) -> None:
        await asyncio.Event().wait()

    nc = await nats.connect(nats_url)
    try:
        server = await serve_tool(nc, definition("stop.tool"), brief, prefix=prefix, announce=False)
        in_flight = asyncio.ensure_future(call_tool(nc, prefix, "stop.tool", {}, ctx(), 3))
        while server.stats["in_flight"] == 0:
            await asyncio.sleep(0.01)
        await server.stop()
        assert await in_flight == "done"
        err = await expect_call_error(call_tool(nc, prefix, "stop.tool", {}, ctx(), 1))
        assert err.code == "no_provider"
        await server.stop()  # idempotent

        stuck_server = await serve_tool(nc, definition("stuck.tool"), stuck, prefix=prefix, announce=False)
        pending = asyncio.ensure_future(expect_call_error(
            call_tool(nc, prefix, "stuck.tool", {}, ctx(deadline=time.time() * 1000 + 60_000), 5)))
        while stuck_server.stats["in_flight"] == 0:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await stuck_server.stop(0.2)
        assert time.monotonic() - started < 2
        err = await pending
        assert err.code == "tool_error" and err.retryable is True and "provider stopped" in err.message
    finally:
        await nc.close()


async def test_registry_announce_get_list_remove(nats_url: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        registry = ToolRegistry(nc, prefix)
        assert registry.bucket == f"{prefix}_tools"
        assert await registry.list() == [] and await registry.get("crm.lookup") is None
        await registry.announce(definition("crm.lookup", description="find a customer"))
        await registry.announce(definition("billing.refund", outputSchema={"type": "object"}))
        await registry.announce(definition("crm.lookup", description="find a customer (v2)"))
        info = await nc.jetstream().stream_info(f"KV_{registry.bucket}")
        assert info.config.max_msgs_per_subject == 1
        assert (await registry.get("crm.lookup") or {})["description"] == "find a customer (v2)"
        entries = await registry.list()
        assert [e["name"] for e in entries] == ["billing.refund", "crm.lookup"]
        assert entries[0]["outputSchema"] == {"type": "object"}
        assert len(await registry.list(1)) == 1
        await registry.remove("crm.lookup")
        await registry.remove("never.there")
        assert await registry.get("crm.lookup") is None
        assert [e["name"] for e in await registry.list()] == ["billing.refund"]

        with pytest.raises(ValueError, match="invalid tool definition"):
            await registry.announce(definition("has space"))
        with pytest.raises(ValueError, match="description"):
            await registry.announce(definition("ok", description="x" * 10_001))
        with pytest.raises(ValueError, match="invalid tool definition"):
            await serve_tool(nc, definition("bad name"), lambda p, c: 1, prefix=prefix)

        kv = await nc.jetstream().key_value(registry.bucket)
        await kv.put("junk", b"not json")
        await kv.put("foreign", json.dumps({"name": "foreign", "description": "by hand", "inputSchema": {},
                                            "updatedAt": "2026-01-01T00:00:00Z"}).encode())
        assert await registry.get("junk") is None
        assert await registry.get("foreign") == {"name": "foreign", "description": "by hand", "inputSchema": {},
                                                 "updatedAt": "2026-01-01T00:00:00Z",
                                                 "provider": {"id": "unknown", "sdk": "unknown"}}
    finally:
        await nc.close()


async def _call_once(url: str, prefix: str, name: str, params: Dict[str, Any]) -> Any:
    nc = await nats.connect(url)
    try:
        return await call_tool(nc, prefix, name, params, ctx(), 5)
    finally:
        await nc.close()


def test_sync_client_serves_sync_and_async_handlers(nats_url: str, prefix: str) -> None:
    threads: List[str] = []

    def greet(params: Dict[str, Any], context: ToolContext) -> str:
        threads.append(threading.current_thread().name)
        time.sleep(0.05)  # blocking is fine: sync handlers run on a worker thread
        return f"hello {params['who']}"

    async def shout(params: Dict[str, Any], context: ToolContext) -> str:
        await asyncio.sleep(0.01)
        return str(params["who"]).upper()

    with Toolpath(TENANT, servers=nats_url, subject_prefix=prefix) as client:
        with client.serve_tool(definition("greet.sync"), greet) as s1, \
                client.serve_tool(definition("greet.async"), shout) as s2:
            assert s1.subject == tool_subject(prefix, "greet.sync")
            assert run_async(_call_once(nats_url, prefix, "greet.sync", {"who": "ada"})) == "hello ada"
            assert run_async(_call_once(nats_url, prefix, "greet.async", {"who": "ada"})) == "ADA"
            with pytest.raises(ToolCallError) as info:
                run_async(_call_once(nats_url, prefix, "greet.sync", {}))
            assert info.value.code == "tool_error" and info.value.retryable is False
            assert s2.stats["ok"] == 1
        names = sorted(e["name"] for e in run_async(_list_registry(nats_url, prefix)))
        assert names == ["greet.async", "greet.sync"]
        with pytest.raises(ToolCallError) as info:
            run_async(_call_once(nats_url, prefix, "greet.sync", {"who": "x"}))
        assert info.value.code == "no_provider"
    assert threads and all(not t.startswith("toolpath-publisher") for t in threads)


async def _list_registry(url: str, prefix: str) -> List[Dict[str, Any]]:
    nc = await nats.connect(url)
    try:
        return await ToolRegistry(nc, prefix).list()
    finally:
        await nc.close()
