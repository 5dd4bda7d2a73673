"""Toolpath Python SDK: publish tool-call events so Toolpath can learn workflows.

Two clients share one design (a bounded in-memory buffer drained to NATS JetStream in the
background, so publishing never blocks or fails the caller):

* :class:`Toolpath` for synchronous servers (Flask, Django, scripts);
* :class:`AsyncToolpath` for asyncio servers (FastAPI, aiohttp).

``client.session(intent=...)`` returns a :class:`Session` that records each tool call of a
task with an increasing ``seq`` and closes with a ``session_end`` event.

:func:`serve_tool` (``Toolpath.serve_tool`` for sync code) serves a tool to the Toolpath
executor over NATS and announces it in the tool registry; see :mod:`toolpath.tools`.
"""

from .async_client import AsyncToolpath
from .errors import EventTooLargeError, InvalidEventError, ToolpathError
from .events import (
    MAX_EVENT_BYTES,
    SPEC_VERSION,
    Event,
    encode_event,
    format_timestamp,
    new_event_id,
    session_end_event,
    tool_call_event,
    validate_event,
)
from .session import Session, Step
from .sync_client import Toolpath
from .tools import (
    DEFAULT_DEDUPE_MAX_ENTRIES,
    DEFAULT_DEDUPE_TTL,
    DEFAULT_TOOL_HEARTBEAT,
    DEFAULT_TOOL_TTL,
    MAX_TOOL_REPLY_BYTES,
    TOOL_PROVIDER_QUEUE_GROUP,
    SyncToolServer,
    ToolCallError,
    ToolContext,
    ToolError,
    ToolRegistry,
    ToolServer,
    call_tool,
    serve_tool,
    serve_tool_sync,
    tool_registry_bucket,
    tool_subject,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncToolpath",
    "Toolpath",
    "Session",
    "Step",
    "Event",
    "ToolpathError",
    "InvalidEventError",
    "EventTooLargeError",
    "MAX_EVENT_BYTES",
    "SPEC_VERSION",
    "encode_event",
    "format_timestamp",
    "new_event_id",
    "session_end_event",
    "tool_call_event",
    "validate_event",
    "DEFAULT_DEDUPE_MAX_ENTRIES",
    "DEFAULT_DEDUPE_TTL",
    "DEFAULT_TOOL_HEARTBEAT",
    "DEFAULT_TOOL_TTL",
    "MAX_TOOL_REPLY_BYTES",
    "TOOL_PROVIDER_QUEUE_GROUP",
    "SyncToolServer",
    "ToolCallError",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolServer",
    "call_tool",
    "serve_tool",
    "serve_tool_sync",
    "tool_registry_bucket",
    "tool_subject",
    "__version__",
]
