"""Test infrastructure: a real nats-server with JetStream, and one private stream per test.

``NATS_URL`` (default nats://127.0.0.1:4222) is used when a JetStream-enabled server answers
there; otherwise the session starts its own from ``~/.cache/toolpath/bin/nats-server`` (or
``$TOOLPATH_NATS_SERVER``) on a free loopback port and stops it afterwards. Every test gets a
unique subject prefix and stream, deleted afterwards, so parallel runs never interfere.

Helpers run their NATS calls on a throwaway thread with its own event loop, so they work the
same from sync tests and (through ``asyncio.to_thread``) from async ones without sharing a
loop with the client under test.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

NATS_BIN = Path(os.environ.get("TOOLPATH_NATS_SERVER", "~/.cache/toolpath/bin/nats-server")).expanduser()
TENANT = "acme"


def run_async(coro: Any, timeout: float = 30.0) -> Any:
    """Runs ``coro`` to completion on a fresh loop in a fresh thread; returns its result."""
    box: Dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"helper did not finish within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


async def _connect(url: str) -> Any:
    # max_reconnect_attempts=0 would retry forever inside nats-py; 1 means "try, then fail".
    return await asyncio.wait_for(
        nats.connect(url, connect_timeout=1, allow_reconnect=False, max_reconnect_attempts=1,
                     reconnect_time_wait=0.1, error_cb=_quiet),
        timeout=5,
    )


async def _quiet(_: Exception) -> None:
    pass


async def _jetstream_ok(url: str) -> bool:
    try:
        nc = await _connect(url)
    except Exception:
        return False
    try:
        await nc.jetstream().account_info()
        return True
    except Exception:
        return False
    finally:
        await nc.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    """A nats-server child process on a loopback port (JetStream on, store in ``store_dir``)."""

    def __init__(self, port: int, store_dir: Path) -> None:
        if not NATS_BIN.exists():
            pytest.fail(f"no NATS answering and no nats-server binary at {NATS_BIN}")
        self.port = port
        self.store_dir = store_dir
        self.url = f"nats://127.0.0.1:{port}"
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "NatsServer":
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.store_dir / "nats-server.log", "ab")
        self.proc = subprocess.Popen(
            [str(NATS_BIN), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store_dir)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited early; see {self.store_dir}/nats-server.log")
            if run_async(_jetstream_ok(self.url)):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nats-server did not become ready")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("NATS_URL") or "nats://127.0.0.1:4222"
    if run_async(_jetstream_ok(url)):
        yield url
        return
    server = NatsServer(free_port(), tmp_path_factory.mktemp("nats")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def nats_server_factory(tmp_path: Path) -> Iterator[Any]:
    """Starts extra servers (for outage tests); all are stopped after the test."""
    started: List[NatsServer] = []

    def make(port: int, store_dir: Optional[Path] = None) -> NatsServer:
        server = NatsServer(port, store_dir or tmp_path / f"nats-{port}")
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@dataclass
class Message:
    subject: str
    headers: Dict[str, str]
    data: Dict[str, Any]


@dataclass
class StreamRef:
    """A per-test stream on ``<prefix>.events.>``."""

    url: str
    prefix: str
    name: str
    tenant: str = TENANT

    @property
    def subject(self) -> str:
        return f"{self.prefix}.events.{self.tenant}"

    async def _create(self, storage: StorageType) -> None:
        nc = await _connect(self.url)
        try:
            await nc.jetstream().add_stream(StreamConfig(
                name=self.name, subjects=[f"{self.prefix}.events.>"], storage=storage,
                duplicate_window=120.0,
            ))
        finally:
            await nc.close()

    def create(self, storage: StorageType = StorageType.MEMORY) -> None:
        run_async(self._create(storage))

    async def _delete(self) -> None:
        nc = await _connect(self.url)
        try:
            await nc.jetstream().delete_stream(self.name)
        except Exception:
            pass
        finally:
            await nc.close()

    def delete(self) -> None:
        try:
            run_async(self._delete())
        except Exception:
            pass  # the server may be gone in outage tests

    async def _messages(self, expected: int, timeout: float) -> List[Message]:
        nc = await _connect(self.url)
        try:
            jsm = nc.jetstream()
            deadline = time.monotonic() + timeout
            while True:
                info = await jsm.stream_info(self.name)
                if info.state.messages >= expected or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.05)
            out: List[Message] = []
            if info.state.messages == 0:
                return out
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await jsm.get_msg(self.name, seq)
                out.append(Message(msg.subject or "", dict(msg.headers or {}), json.loads(msg.data or b"")))
            return out
        finally:
            await nc.close()

    def messages(self, expected: int = 0, timeout: float = 10.0) -> List[Message]:
        """All messages in the stream, after waiting up to ``timeout`` for ``expected``."""
        return run_async(self._messages(expected, timeout), timeout + 20)


def new_stream_ref(url: str) -> StreamRef:
    suffix = uuid.uuid4().hex[:8]
    return StreamRef(url=url, prefix=f"tp_{suffix}", name=f"TP_{suffix.upper()}")


@pytest.fixture
def stream(nats_url: str) -> Iterator[StreamRef]:
    ref = new_stream_ref(nats_url)
    ref.create()
    yield ref
    ref.delete()


@pytest.fixture
def unreachable_url() -> str:
    """A loopback port nothing listens on (connection refused at once)."""
    return f"nats://127.0.0.1:{free_port()}"


async def _delete_registry_bucket(url: str, prefix: str) -> None:
    from toolpath import tool_registry_bucket

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(f"KV_{tool_registry_bucket(prefix)}")
    except Exception:
        pass
    finally:
        await nc.close()


@pytest.fixture
def prefix(nats_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A subject prefix of the test's own (tp_<module>_<hex>); its tool registry bucket is deleted afterwards."""
    label = request.module.__name__.rsplit(".", 1)[-1].replace("test_", "").replace("_", "")[:8]
    p = f"tp_{label}_{uuid.uuid4().hex[:8]}"
    yield p
    run_async(_delete_registry_bucket(nats_url, p))
