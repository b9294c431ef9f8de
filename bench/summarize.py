#!/usr/bin/env python3
"""Turns a bench/run results directory into Markdown tables (printed on stdout).

usage: summarize.py RESULTS_DIR

Reads results.jsonl (one wrk run per line), memory.jsonl (one conn_hold.py or sleepers run per
line), memory_bench.txt (Brigade's in-process memory figures) and spawn.jsonl (one spawn_join
run per line), whichever exist. Every figure
is a median over the runs; a ratio to brigade is taken within each round first (the same
sitting for both), then the median of those ratios.
"""
import json
import pathlib
import statistics
import sys


def read_jsonl(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def cpu_us_per_request(run):
    return 1e6 * run["server_cpu_s"] / run["requests"] if run["requests"] else None


def user_us_per_request(run):
    """Results written before the harness split user from system time have no user figure."""
    if not run["requests"] or "server_user_s" not in run:
        return None
    return 1e6 * run["server_user_s"] / run["requests"]


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio_to_brigade(runs, server, key):
    """Median over rounds of key(server's run) / key(brigade's run) in the same round."""
    by_round = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["server"]] = key(run)
    ratios = [r[server] / r["brigade"] for r in by_round.values()
              if r.get(server) is not None and r.get("brigade")]
    return median_or_none(ratios)


def http_tables(runs):
    out = []
    groups = {}
    for run in runs:
        groups.setdefault((run["phase"], run["connections"]), []).append(run)
    for (phase, connections), group in sorted(groups.items()):
        out.append(f"### {phase}, {connections} connections\n")
        out.append("| server | req/s | p50 ms | p99 ms | server CPU µs/req | of it user "
                   "| req/s ÷ brigade | CPU/req ÷ brigade | user/req ÷ brigade |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        servers = sorted({run["server"] for run in group}, key=lambda s: (s != "brigade", s))
        for server in servers:
            mine = [run for run in group if run["server"] == server]
            rate = median_or_none([run["requests_per_s"] for run in mine])
            p50 = median_or_none([run["latency_ms"].get("p50") for run in mine])
            p99 = median_or_none([run["latency_ms"].get("p99") for run in mine])
            cpu = median_or_none([cpu_us_per_request(run) for run in mine])
            user = median_or_none([user_us_per_request(run) for run in mine])
            rate_ratio = ratio_to_brigade(group, server, lambda run: run["requests_per_s"])
            cpu_ratio = ratio_to_brigade(group, server, cpu_us_per_request)
            user_ratio = ratio_to_brigade(group, server, user_us_per_request)
            out.append(f"| {server} | {fmt(rate)} | {fmt(p50, 2)} | {fmt(p99, 2)} | {fmt(cpu, 2)} "
                       f"| {fmt(user, 2)} | {fmt(rate_ratio, 2)} | {fmt(cpu_ratio, 2)} "
                       f"| {fmt(user_ratio, 2)} |")
        out.append("")
    return out


def memory_tables(rows, memory_bench_text):
    out = []
    held = [row for row in rows if row["kind"] == "http_connection"]
    if held:
        out.append("### Memory per idle keep-alive HTTP connection\n")
        out.append("| server | bytes per connection | ÷ brigade |")
        out.append("| --- | ---: | ---: |")
        per_server = {}
        for row in held:
            per_server.setdefault(row["server"], []).append(row["bytes_per_conn"])
        brigade = median_or_none(per_server.get("brigade", []))
        for server in sorted(per_server, key=lambda s: (s != "brigade", s)):
            value = statistics.median(per_server[server])
            out.append(f"| {server} | {fmt(value)} | {fmt(value / brigade if brigade else None, 2)} |")
        out.append("")

    echo = [row for row in rows if row["kind"].startswith("echo_")]
    sleepers = [row for row in rows if row["kind"] == "sleepers"]
    if echo or sleepers:
        out.append("### Memory per task and per idle echo connection, Tokio and Brigade\n")
        out.append("| per item | Tokio | Brigade | Brigade ÷ Tokio |")
        out.append("| --- | ---: | ---: | ---: |")
    if sleepers:
        tokio = tokio_bytes_per_sleeper(sleepers)
        brigade = memory_bench_figure(memory_bench_text, "per sleeping task")
        out.append(f"| sleeping task | {fmt(tokio)} | {fmt(brigade)} "
                   f"| {fmt(brigade / tokio if tokio and brigade else None, 2)} |")
    names = {"echo_lazy": "idle echo connection, no buffer while idle",
             "echo_stack": "idle echo connection, 4 KiB buffer in the task",
             "echo_heap": "idle echo connection, 4 KiB heap buffer"}
    for kind, label in names.items():
        mine = [row for row in echo if row["kind"] == kind]
        if not mine:
            continue
        tokio = median_or_none([r["bytes_per_conn"] for r in mine if r["server"].startswith("tokio")])
        brigade = median_or_none([r["bytes_per_conn"] for r in mine
                                  if r["server"].startswith("brigade")])
        out.append(f"| {label} | {fmt(tokio)} | {fmt(brigade)} "
                   f"| {fmt(brigade / tokio if tokio and brigade else None, 2)} |")
    if echo or sleepers:
        out.append("")
    return out


def tokio_bytes_per_sleeper(rows):
    """Median over runs of (peak with N tasks - peak with one task) / N."""
    per_run = []
    for rep in sorted({row["rep"] for row in rows}):
        mine = {row["n"]: row["peak_kib"] for row in rows if row["rep"] == rep}
        one = mine.pop(1, None)
        for n, peak in mine.items():
            if one is not None:
                per_run.append((peak - one) * 1024 / n)
    return median_or_none(per_run)


def memory_bench_figure(text, label):
    """The median memory_bench printed on its `label` line."""
    for line in text.splitlines():
        if line.startswith(label):
            fields = line[len(label):].split()
            return float(fields[0]) if fields and fields[0].isdigit() else None
    return None


def spawn_tables(rows):
    """ns per spawn + join, Brigade beside Tokio; the ratio within each repetition, then its median."""
    if not rows:
        return []
    out = ["### spawn + join of an empty task (1,000 at a time, from inside a task)\n",
           "brigade: its defaults, as Tokio's; timed: with the latency histograms the server "
           "turns on.\n",
           "| workers | brigade ns/task | timed ns/task | tokio ns/task | brigade ÷ tokio "
           "| timed ÷ tokio |",
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for workers in sorted({row["workers"] for row in rows}):
        mine = [row for row in rows if row["workers"] == workers]
        by_rep = {}
        for row in mine:
            by_rep.setdefault(row["rep"], {})[row["runtime"]] = row["ns_per_task"]
        def ns(runtime):
            return median_or_none([row["ns_per_task"] for row in mine if row["runtime"] == runtime])

        def ratio(runtime):
            return median_or_none([r[runtime] / r["tokio"] for r in by_rep.values()
                                   if r.get(runtime) is not None and r.get("tokio")])
        out.append(f"| {workers} | {fmt(ns('brigade'), 1)} | {fmt(ns('brigade_timed'), 1)} "
                   f"| {fmt(ns('tokio'), 1)} | {fmt(ratio('brigade'), 2)} "
                   f"| {fmt(ratio('brigade_timed'), 2)} |")
    out.append("")
    return out


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    results = pathlib.Path(argv[0])
    print("# bench/run summary\n")
    setup = results / "setup.txt"
    if setup.exists():
        print("```\n" + setup.read_text().strip() + "\n```\n")
    memory_bench = results / "memory_bench.txt"
    lines = http_tables(read_jsonl(results / "results.jsonl"))
    lines += memory_tables(read_jsonl(results / "memory.jsonl"),
                           memory_bench.read_text() if memory_bench.exists() else "")
    lines += spawn_tables(read_jsonl(results / "spawn.jsonl"))
    print("\n".join(lines) if lines else "No results.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
