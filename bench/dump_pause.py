#!/usr/bin/env python3
"""How long GET /debug/tasks takes with 100,000 sleeping tasks, and how much it delays GET /.

    bench/dump_pause.py BRIGADE_BINARY [SECONDS]

Starts the binary (2 workers, an admin port, both on free ports), keeps 100 connections each
waiting on GET /fanout?n=1000&ms=10000 (100,000 sleeping tasks; the connections start 0.1 s
apart, so about 1,000 tasks end and are spawned again every 0.1 s), then, for
SECONDS each (default 20), in this order:
  quiet  one client issues GET / in a loop on the main port and records each latency;
  text   the same, while another client fetches GET /debug/tasks (text) in a loop;
  json   the same with GET /debug/tasks?format=json.
Prints, per phase, the GET / count, median, p99, p99.9 and maximum latency, and the dumps'
count, median and maximum time. Each client is one keep-alive connection (http.client).
"""
import http.client
import re
import statistics
import subprocess
import sys
import threading
import time

FANOUT_CONNECTIONS = 100
FANOUT_PATH = "/fanout?n=1000&ms=10000"


def start(binary):
    server = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--worker-threads", "2", "--max-fanout", "1000"],
        stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        found = re.search(r"address=127\.0\.0\.1:(\d+) admin_address=127\.0\.0\.1:(\d+)", line)
        if found:
            threading.Thread(target=server.stderr.read, daemon=True).start()  # drain
            return server, int(found.group(1)), int(found.group(2))
    raise RuntimeError("brigade did not start")


def fanout_forever(port, stop, delay):
    time.sleep(delay)  # staggered, so that the fanouts do not all end and restart at once
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        connection.request("GET", FANOUT_PATH)
        connection.getresponse().read()


def loop(port, path, stop, times):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        began = time.perf_counter()
        connection.request("GET", path)
        connection.getresponse().read()
        times.append(time.perf_counter() - began)


def dump_task_count(admin):
    connection = http.client.HTTPConnection("127.0.0.1", admin, timeout=60)
    connection.request("GET", "/debug/tasks")
    first = connection.getresponse().read().split(b"\n", 1)[0]
    return int(first.split()[0])


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def phase(name, port, admin, dump_path, seconds):
    stop = threading.Event()
    gets, dumps = [], []
    threads = [threading.Thread(target=loop, args=(port, "/", stop, gets))]
    if dump_path:
        threads.append(threading.Thread(target=loop, args=(admin, dump_path, stop, dumps)))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    ms = lambda s: f"{s * 1000:.2f}"
    line = (f"{name:5} GET /: {len(gets)} requests, median {ms(statistics.median(gets))} ms, "
            f"p99 {ms(quantile(gets, 0.99))} ms, p99.9 {ms(quantile(gets, 0.999))} ms, "
            f"max {ms(max(gets))} ms")
    if dumps:
        line += (f"; dumps: {len(dumps)}, median {ms(statistics.median(dumps))} ms, "
                 f"max {ms(max(dumps))} ms")
    print(line, flush=True)


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    server, port, admin = start(binary)
    stop = threading.Event()
    try:
        for i in range(FANOUT_CONNECTIONS):
            delay = i * 10.0 / FANOUT_CONNECTIONS
            threading.Thread(target=fanout_forever, args=(port, stop, delay), daemon=True).start()
        deadline = time.monotonic() + 60
        while dump_task_count(admin) < 100_000 and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"live tasks: {dump_task_count(admin)}", flush=True)
        phase("quiet", port, admin, None, seconds)
        phase("text", port, admin, "/debug/tasks", seconds)
        phase("json", port, admin, "/debug/tasks?format=json", seconds)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
