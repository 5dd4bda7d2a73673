#!/usr/bin/env python3
"""The directly-follows graph of an event log as pm4py computes it (the real-logs bench's reference).

Run with the venv of setup.sh:  .data/venv-pm4py/bin/python bench/pm4py/dfg.py LOG [--interval]

Prints one JSON object on stdout:
  { "cases": n, "events": n, "lifecycleStarts": n, "startTimestamps": bool, "dfg": [[a, b, count], ...], "start": {a: n}, "end": {a: n},
    "seconds": t, "readSeconds": t, "view": "events" | "interval", "pm4py": "x.y.z" }
`seconds` is the time of `pm4py.discover_dfg` alone (the figure compared with the analyzer);
`readSeconds` is reading and formatting the log. Edges are sorted (count descending, then names).

Views (both are pm4py's own code paths, nothing re-implemented here):
  default     pm4py.read_xes (a DataFrame) or pandas.read_csv + pm4py.format_dataframe, then
              pm4py.discover_dfg. Events are ordered by (case, timestamp), ties in file order; a
              column named start_timestamp, if present, orders the edges by (start, end) instead.
              Every event counts, so a log with lifecycle start/complete pairs yields a -> a
              self-loops.
  --interval  pm4py's interval view of a lifecycle log: the log as an EventLog,
              pm4py.objects.log.util.interval_lifecycle.to_interval (each `complete` paired with
              the earliest open `start` of the same activity and concept:instance; an unpaired
              complete is an interval of length 0; starts never completed and every other
              transition - schedule, suspend, ... - are dropped; each trace sorted by start time,
              stably), then pm4py.discover_dfg on that EventLog (consecutive events of each trace).
              A log whose events already carry start_timestamp is an interval log: each trace
              is ordered by (start, end), stably. (On such a DataFrame the default view's
              discover_dfg orders the edges by start but takes start and end activities in
              end-time order; the interval view orders both by start.)
"""
import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter

# Quiet stderr: no progress bars; pm4py's deprecation notices about EventLog are expected here.
os.environ.setdefault("PM4PY_SHOW_PROGRESS_BAR", "False")
warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import pm4py  # noqa: E402

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
START = "start_timestamp"
TRANSITION = "lifecycle:transition"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="dfg.py",
        description="Print pm4py.discover_dfg of a .xes, .xes.gz or .csv log as JSON.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Views" + __doc__.split("Views", 1)[1],
    )
    p.add_argument("log", help="the log: .xes, .xes.gz or .csv")
    p.add_argument("--interval", action="store_true", help="pm4py's interval view of start/complete pairs")
    p.add_argument("--case-column", default=CASE, help=f"CSV case id column (default {CASE})")
    p.add_argument("--activity-column", default=ACTIVITY, help=f"CSV activity column (default {ACTIVITY})")
    p.add_argument("--timestamp-column", default=TIMESTAMP, help=f"CSV timestamp column (default {TIMESTAMP})")
    p.add_argument("--start-timestamp-column", default=START, help=f"CSV start timestamp column, used when present (default {START})")
    p.add_argument("--timestamp-format", default=None, help="strftime format of CSV timestamps (default: pandas infers)")
    p.add_argument("--sep", default=",", help="CSV delimiter (default ,)")
    return p.parse_args(argv)


def is_csv(path):
    return path.lower().endswith(".csv") or path.lower().endswith(".csv.gz")


def read_frame(args):
    """The log as pm4py's standard DataFrame (case, activity, timestamp columns; sorted)."""
    if not is_csv(args.log):
        return pm4py.read_xes(args.log)
    df = pd.read_csv(args.log, sep=args.sep, dtype={args.case_column: str, args.activity_column: str})
    return pm4py.format_dataframe(
        df,
        case_id=args.case_column,
        activity_key=args.activity_column,
        timestamp_key=args.timestamp_column,
        start_timestamp_key=args.start_timestamp_column,
        timest_format=args.timestamp_format,
    )


def read_interval_log(args):
    """The log in pm4py's interval form: an EventLog from to_interval, or an interval DataFrame."""
    from pm4py.objects.log.util import interval_lifecycle

    from pm4py.objects.log.util import sorting

    if not is_csv(args.log):
        log = pm4py.read_xes(args.log, return_legacy_log_object=True)
        interval = interval_lifecycle.to_interval(log)
        if interval is log and has_start_timestamps(log):
            # Already an interval log: to_interval returns it as read. Order each trace by start
            # time (stably), as to_interval orders the logs it converts.
            for i, trace in enumerate(log):
                log._list[i] = sorting.sort_timestamp_trace(trace, START)
        return interval
    df = read_frame(args)
    if START in df.columns:
        # Already intervals. discover_dfg orders the edges by (case, start, end) but takes the start
        # and end activities in the frame's order (case, end): sort the frame the same way first
        # (stably), so that both follow the start order, as in the interval view of an EventLog.
        return df.sort_values([CASE, START, TIMESTAMP], kind="mergesort")
    if TRANSITION in df.columns:
        return interval_lifecycle.to_interval(pm4py.convert_to_event_log(df))
    return df  # no lifecycle information: the interval view is the event view


def has_start_timestamps(log):
    """Whether events carry a start timestamp (an interval log: the interval view applies)."""
    if isinstance(log, pd.DataFrame):
        return START in log.columns
    return any(START in e for trace in log[:1] for e in trace)


def count_events(log):
    if isinstance(log, pd.DataFrame):
        return int(len(log)), int(log[CASE].nunique())
    return sum(len(trace) for trace in log), len(log)


def count_lifecycle_starts(log):
    """Events whose lifecycle:transition is `start` (then the interval view is the one to compare)."""
    if isinstance(log, pd.DataFrame):
        if TRANSITION not in log.columns:
            return 0
        return int((log[TRANSITION].astype(str).str.lower() == "start").sum())
    return sum(1 for trace in log for e in trace if str(e.get(TRANSITION, "")).lower() == "start")


def main(argv):
    args = parse_args(argv)
    t0 = time.perf_counter()
    log = read_interval_log(args) if args.interval else read_frame(args)
    read_seconds = time.perf_counter() - t0
    # Before discover_dfg: on a DataFrame it adds a start_timestamp column (a copy of the end time).
    starts = count_lifecycle_starts(log)
    intervals = has_start_timestamps(log)

    t1 = time.perf_counter()
    dfg, start, end = pm4py.discover_dfg(log)
    seconds = time.perf_counter() - t1

    events, cases = count_events(log)
    edges = sorted(([a, b, int(n)] for (a, b), n in dfg.items()), key=lambda e: (-e[2], e[0], e[1]))
    out = {
        "log": args.log,
        "view": "interval" if args.interval else "events",
        "pm4py": pm4py.__version__,
        "cases": cases,
        "events": events,
        "lifecycleStarts": starts,
        "startTimestamps": intervals,
        "dfg": edges,
        "start": {a: int(n) for a, n in Counter(start).most_common()},
        "end": {a: int(n) for a, n in Counter(end).most_common()},
        "seconds": round(seconds, 6),
        "readSeconds": round(read_seconds, 6),
    }
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
