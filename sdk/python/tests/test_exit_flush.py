"""Events still buffered when the interpreter exits are delivered by the atexit hook."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

SYNC_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from toolpath import Toolpath, tool_call_event

    n = int(sys.argv[2])
    client = Toolpath("acme", servers=os.environ["NATS_URL"], subject_prefix=sys.argv[1])
    for i in range(n):
        client.publish(tool_call_event(tenant_id="acme", session_id="exit", tool="t",
                                       success=True, seq=i, result={"i": i}))
    print("pending at exit:", client.stats["pending"], flush=True)
    # no close(), no flush(): the atexit hook must deliver the rest
    """
)

ASYNC_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from toolpath import AsyncToolpath

    async def main():
        client = AsyncToolpath("acme", servers=os.environ["NATS_URL"], subject_prefix=sys.argv[1])
        await client.connect()
        async with client.session(intent="exit") as s:
            for i in range(int(sys.argv[2]) - 1):
                s.record("t", {"i": i})
        print("pending at exit:", client.stats["pending"], flush=True)
        # returns without close(): asyncio.run() tears the loop down under the client

    asyncio.run(main())
    """
)


def run_script(script: str, stream, n: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, NATS_URL=stream.url)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script, stream.prefix, str(n)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 < 30
    return proc


def test_sync_client_flushes_at_exit(stream):
    n = 2000
    proc = run_script(SYNC_SCRIPT, stream, n)
    assert "pending at exit:" in proc.stdout
    msgs = stream.messages(n)
    assert len(msgs) == n
    assert sorted(m.data["seq"] for m in msgs) == list(range(n))
    assert "Traceback" not in proc.stderr


def test_async_client_flushes_at_exit_after_loop_is_gone(stream):
    n = 500
    proc = run_script(ASYNC_SCRIPT, stream, n)
    msgs = stream.messages(n)
    assert len(msgs) == n, proc.stdout + proc.stderr
    assert sum(1 for m in msgs if m.data["kind"] == "session_end") == 1


FORK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from toolpath import Toolpath

    client = Toolpath("acme", servers=os.environ["NATS_URL"], subject_prefix=sys.argv[1])
    def ev(who, i):
        return {"sessionId": who, "tool": "t", "success": True, "seq": i,
                "startedAt": 0, "durationMs": 0}
    client.publish(ev("parent", 0))
    client.flush(5)
    pid = os.fork()  # like gunicorn --preload: the client was made before the fork
    if pid == 0:
        for i in range(5):
            client.publish(ev("child", i))
        sys.exit(0)  # the child's atexit hook flushes its own client
    _, status = os.waitpid(pid, 0)
    assert status == 0, status
    client.publish(ev("parent", 1))
    """
)


def test_client_created_before_fork_works_in_the_child(stream):
    run_script(FORK_SCRIPT, stream, 0)
    msgs = stream.messages(7)
    assert sorted((m.data["sessionId"], m.data["seq"]) for m in msgs) == (
        [("child", i) for i in range(5)] + [("parent", 0), ("parent", 1)]
    )


def test_exit_is_bounded_when_nats_is_down(unreachable_url):
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        from toolpath import AsyncToolpath, Toolpath
        ev = {"sessionId": "s", "tool": "t", "success": True, "startedAt": 0, "durationMs": 0}
        sync = Toolpath("acme", servers=os.environ["NATS_URL"], exit_timeout=1.0)
        sync.publish(ev)
        async def main():
            a = AsyncToolpath("acme", servers=os.environ["NATS_URL"], exit_timeout=1.0)
            await a.connect(timeout=0.1)
            a.publish(ev)
        asyncio.run(main())
        """
    )
    env = dict(os.environ, NATS_URL=unreachable_url)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 < 8.0
    assert "lost at exit" in proc.stderr or "not delivered" in proc.stderr
