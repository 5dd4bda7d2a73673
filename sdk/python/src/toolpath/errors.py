"""Exceptions raised by the Toolpath SDK.

Only two situations ever raise out of ``publish()``: an event that can never be valid (a
programming error the caller must fix) and an event that is too large for NATS. Everything
that can go wrong *later* (NATS down, a full buffer, a failed publish) is counted in
``client.stats`` instead, because telemetry must never break the request that produced it.
"""

from __future__ import annotations

__all__ = ["ToolpathError", "InvalidEventError", "EventTooLargeError"]


class ToolpathError(Exception):
    """Base class of every exception this package raises on purpose."""


class InvalidEventError(ToolpathError, ValueError):
    """An event (or a client option that ends up in events) breaks the v1 contract.

    ``field`` names the offending field (e.g. ``tenantId``), so the message can be acted on
    without reading the contract; it is also a ``ValueError`` so generic handlers catch it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"invalid event field {field!r}: {message}")


class EventTooLargeError(ToolpathError):
    """The encoded event is larger than NATS accepts.

    NATS closes the whole connection on a payload-size violation, so an oversized event is
    refused before it is queued (and counted in ``stats['too_large']``) rather than sent.
    """

    def __init__(self, size: int, limit: int, detail: str = "") -> None:
        self.size = size
        self.limit = limit
        msg = f"encoded event is {size} bytes, over the limit of {limit} bytes"
        if detail:
            msg = f"{msg} ({detail})"
        super().__init__(msg)
