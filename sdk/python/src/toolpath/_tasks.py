"""Stopping asyncio tasks with a bound."""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable

logger = logging.getLogger("toolpath")


async def cancel_and_wait(tasks: Iterable["asyncio.Future[object]"], rounds: int = 10,
                          round_seconds: float = 0.2) -> int:
    """Cancels ``tasks`` and waits for them, at most ``rounds`` x ``round_seconds``.

    Why rounds rather than one ``gather()``: nats-py's connect loop can swallow a cancellation
    (a ``wait_for`` race in Python < 3.12), and a gather on such a task waits for ever. Each
    round cancels again what still runs. Returns how many tasks were still running at the end
    (they are left to the loop; the caller goes on).
    """
    pending = {t for t in tasks if not t.done()}
    for _ in range(rounds):
        if not pending:
            break
        for t in pending:
            t.cancel()
        done, pending = await asyncio.wait(pending, timeout=round_seconds)
        for t in done:  # retrieved, so asyncio does not log them as never retrieved
            if not t.cancelled():
                t.exception()
    if pending:
        logger.warning("toolpath: %d background task(s) did not stop when cancelled", len(pending))
    return len(pending)
