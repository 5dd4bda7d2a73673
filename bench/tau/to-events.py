#!/usr/bin/env python3
"""Converts tau-bench tasks (or recorded agent trajectories) to Toolpath events, one JSON per line.

The tau-bench checkout is given with --tau-dir and imported at run time; nothing of it is copied.
Only its tools, data and task lists are imported (its package __init__ pulls in LLM clients,
which are not needed to run a tool), so the only third-party module used is pydantic, which its
task lists are written with.

Tasks mode (default): one session per task. The intent is the task's `instruction`, the user its
`user_id`; the tool calls are the task's `actions` in order - each action's `kwargs` as
parameters, and as result the string the domain's tool returns when the action is run on that
domain's data (loaded fresh for every task, since tools change it). A tool that raises, or
returns text starting with "Error", is a failed call (`success: false`, `error` = the text), as
tau-bench's own environment reports it. A string result is recorded as a string, as the SDKs
record what a tool returns. Then a `session_end`: success = every call succeeded.

Trajectories mode (--trajectories FILE, e.g. historical_trajectories/gpt-4o-airline.json): one
session per recorded run (task id, trial); the tool calls are the assistant's `tool_calls` in
order (arguments parsed from their JSON text), each result the content of the `tool` message
that answers it; `session_end` success = the run's reward is 1.

Timestamps are synthetic but plausible and deterministic (seeded): sessions start a few minutes
apart from --start; calls take 50-900 ms; between two calls the agent and the user talk for
3-45 s (in trajectories: 4-20 s for each message between the two calls). The `session_end`
carries the session's END time in `startedAt` (the last call's end) and the whole session's
length in `durationMs`, so it sorts after the session's calls.

Events are ToolEventInput objects (libs/contracts): `specVersion`, `kind`, `sessionId`, `userId`,
`agentId`, `seq`, `tool`, `parameters`, `result`, `success`, `error`, `startedAt` (ISO-8601),
`durationMs`, `intent` (on every event, as the SDKs send it) and `source`
("tau-bench/<domain>/<split>"); `eventId` and `tenantId` are left for the publisher to fill in.
"""
import argparse
import importlib
import json
import os
import pickle
import random
import sys
import types
from datetime import datetime, timedelta, timezone

DOMAINS = ("retail", "airline")
SPLITS = ("train", "test", "dev")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="to-events.py",
        description=__doc__.split("\n", 1)[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tau-dir", required=True, help="the tau-bench checkout (the directory holding tau_bench/)")
    p.add_argument("--domain", action="append", choices=DOMAINS, help="retail or airline; repeatable (default: both)")
    p.add_argument("--split", action="append", choices=SPLITS, help="train, test or dev; repeatable (default: every split the domain has)")
    p.add_argument("--trajectories", metavar="FILE", help="convert recorded trajectories (a JSON list of {task_id, trial, reward, info, traj}) instead of tasks")
    p.add_argument("--trajectories-domain", default="airline", choices=DOMAINS, help="the domain of --trajectories (default airline)")
    p.add_argument("--limit", type=int, default=0, help="at most this many sessions per domain and split (default: all)")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--start", default="2024-05-15T15:00:00Z", help="start of the first session (ISO-8601, default 2024-05-15T15:00:00Z)")
    p.add_argument("--seed", type=int, default=11, help="seed of the synthetic timings (default 11)")
    p.add_argument("--agent-id", default=None, help="agentId of every event (default tau-<domain>)")
    return p.parse_args(argv)


def load_tau(tau_dir):
    """Makes `tau_bench` importable from the checkout without running its package __init__ files.

    tau_bench/__init__.py and tau_bench/envs/__init__.py import the agents and the simulated user
    (LLM clients); the tools, data and tasks need none of that. Empty packages pointing at the
    checkout's folders stand in for those two __init__ files (and the domain packages')."""
    root = os.path.abspath(tau_dir)
    pkg_dir = os.path.join(root, "tau_bench")
    if not os.path.isfile(os.path.join(pkg_dir, "envs", "tool.py")):
        raise SystemExit(f"to-events: {tau_dir} is not a tau-bench checkout (no tau_bench/envs/tool.py)")
    for name, path in (
        ("tau_bench", pkg_dir),
        ("tau_bench.envs", os.path.join(pkg_dir, "envs")),
        *((f"tau_bench.envs.{d}", os.path.join(pkg_dir, "envs", d)) for d in DOMAINS),
    ):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module


class Domain:
    """One domain's tools (by name) and a fresh copy of its data on demand."""

    def __init__(self, name):
        self.name = name
        tools = importlib.import_module(f"tau_bench.envs.{name}.tools")
        self.tools = {tool.get_info()["function"]["name"]: tool for tool in tools.ALL_TOOLS}
        data = importlib.import_module(f"tau_bench.envs.{name}.data").load_data()
        # A pickled copy is restored for each session: the same as load_data() again, faster.
        self._pristine = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)

    def fresh_data(self):
        return pickle.loads(self._pristine)

    def run(self, data, name, kwargs):
        """(result text, error text or None), as tau-bench's Env.step runs an action."""
        tool = self.tools.get(name)
        if tool is None:
            return None, f"Error: unknown action {name}"
        try:
            out = tool.invoke(data=data, **kwargs)
        except Exception as err:  # noqa: BLE001 - the environment reports any exception as text
            return None, f"Error: {err}"
        return out, error_text(out)


def error_text(result):
    if isinstance(result, str) and result.strip().lower().startswith("error"):
        return result
    return None


def task_lists(domain, splits):
    """[(split, tasks)] of the domain's task modules that exist (retail: train/test/dev; airline: test)."""
    found = []
    for split in splits:
        try:
            module = importlib.import_module(f"tau_bench.envs.{domain}.tasks_{split}")
        except ModuleNotFoundError as err:
            if err.name and err.name.endswith(f"tasks_{split}"):
                continue
            raise
        tasks = next((v for k, v in vars(module).items() if k.upper().startswith("TASKS") and isinstance(v, list)), None)
        if tasks:
            found.append((split, tasks))
    return found


class Clock:
    """Deterministic, plausible timings."""

    def __init__(self, start, seed):
        self.rng = random.Random(seed)
        self.next_session = start

    def session_start(self):
        t = self.next_session
        self.next_session = t + timedelta(seconds=self.rng.uniform(60, 300))
        return t

    def call_ms(self):
        return round(self.rng.uniform(50, 900), 1)

    def gap(self, messages_between=None):
        if messages_between is None:
            return timedelta(seconds=self.rng.uniform(3, 45))
        return timedelta(seconds=sum(self.rng.uniform(4, 20) for _ in range(max(1, messages_between))))


def iso(t):
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SessionWriter:
    """Builds the events of one session: calls in order, then the session_end at the end time."""

    def __init__(self, out, clock, common):
        self.out, self.clock, self.common = out, clock, common
        self.seq = 0
        self.failed = 0
        self.first = clock.session_start()
        self.now = self.first

    def call(self, tool, parameters, result, error, gap):
        if self.seq > 0:
            self.now += gap
        duration = self.clock.call_ms()
        event = {**self.common, "kind": "tool_call", "seq": self.seq, "tool": tool, "parameters": parameters,
                 "success": error is None, "startedAt": iso(self.now), "durationMs": duration}
        if error is None:
            if result is not None:
                event["result"] = result
        else:
            event["error"] = error[:10_000]
            self.failed += 1
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.seq += 1
        self.now += timedelta(milliseconds=duration)

    def end(self, success=None, result=None):
        event = {**self.common, "kind": "session_end", "seq": self.seq,
                 "success": self.failed == 0 if success is None else success,
                 "startedAt": iso(self.now),
                 "durationMs": round((self.now - self.first).total_seconds() * 1000, 1)}
        if result is not None:
            event["result"] = result
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")


def convert_tasks(args, out, clock, counts):
    for domain_name in args.domain or DOMAINS:
        domain = Domain(domain_name)
        for split, tasks in task_lists(domain_name, args.split or SPLITS):
            for index, task in enumerate(tasks[: args.limit or None]):
                data = domain.fresh_data()
                common = {"specVersion": "1", "sessionId": f"tau-{domain_name}-{split}-{index:04d}",
                          "userId": task.user_id, "agentId": args.agent_id or f"tau-{domain_name}",
                          "intent": task.instruction[:10_000], "source": f"tau-bench/{domain_name}/{split}"}
                session = SessionWriter(out, clock, common)
                for action in task.actions:
                    result, error = domain.run(data, action.name, dict(action.kwargs))
                    session.call(action.name, dict(action.kwargs), result, error, clock.gap())
                session.end()
                counts[f"{domain_name}/{split}"] = counts.get(f"{domain_name}/{split}", 0) + 1


def convert_trajectories(args, out, clock, counts):
    with open(args.trajectories, encoding="utf-8") as f:
        runs = json.load(f)
    domain_name = args.trajectories_domain
    for run in runs[: args.limit or None]:
        task = (run.get("info") or {}).get("task") or {}
        common = {"specVersion": "1", "sessionId": f"tau-{domain_name}-traj-{run.get('task_id')}-{run.get('trial', 0)}",
                  "agentId": args.agent_id or f"tau-{domain_name}", "source": f"tau-bench/{domain_name}/trajectories"}
        if task.get("user_id"):
            common["userId"] = task["user_id"]
        if task.get("instruction"):
            common["intent"] = task["instruction"][:10_000]
        session = SessionWriter(out, clock, common)
        messages = run.get("traj") or []
        answers = {m.get("tool_call_id"): m.get("content") for m in messages if m.get("role") == "tool"}
        since_last_call = 0
        for message in messages:
            calls = message.get("tool_calls") if message.get("role") == "assistant" else None
            if not calls:
                if message.get("role") in ("user", "assistant"):
                    since_last_call += 1
                continue
            for call in calls:
                fn = call.get("function") or {}
                try:
                    parameters = json.loads(fn.get("arguments") or "{}")
                except json.JSONDecodeError:
                    parameters = {"arguments": fn.get("arguments")}
                if not isinstance(parameters, dict):
                    parameters = {"arguments": parameters}
                result = answers.get(call.get("id"))
                session.call(fn.get("name") or "unknown", parameters, result, error_text(result), clock.gap(since_last_call))
                since_last_call = 0
        reward = run.get("reward")
        session.end(success=None if reward is None else reward >= 1, result=None if reward is None else {"reward": reward})
        counts[f"{domain_name}/trajectories"] = counts.get(f"{domain_name}/trajectories", 0) + 1


def main(argv):
    args = parse_args(argv)
    load_tau(args.tau_dir)
    start = datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    clock = Clock(start, args.seed)
    counts = {}
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        if args.trajectories:
            convert_trajectories(args, out, clock, counts)
        else:
            convert_tasks(args, out, clock, counts)
    finally:
        if args.out:
            out.close()
    print("to-events: sessions " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
