#!/usr/bin/env python3
"""Memory per idle connection: hold N connections to a server and read its resident memory.

usage: conn_hold.py [--echo] [--tls] [--partial-head BYTES] PORT N PID

Opens one connection, makes one exchange and closes it (so lazily built state exists), reads
the server's VmRSS (PID: the process that serves; nginx's worker, not its master), then opens N
connections to 127.0.0.1:PORT, makes one exchange on each and keeps them all open, waits a
second and reads VmRSS again. The exchange is a keep-alive `GET /` answered "Hello, World!",
or with --echo a line the server sends back. With --tls every connection speaks TLS first
(the server's certificate is not verified: a memory probe, not a client). Prints one line:

    idle_kib=A held_kib=B n=N ok=K alive=0|1 bytes_per_conn=(B-A)*1024/N

alive=1 when the first held connection still answers afterwards.

With --partial-head BYTES each held connection sends only the first BYTES of a request head
(a request line, then a header padded to size, never the blank line that ends the head) and
waits: the memory of connections mid-head, whose bytes the server must keep until the head is
complete; VmRSS is read once it stops growing (the server may still be reading them). ok
counts the heads sent; alive=1 when a new connection still gets its answer. Give the server a
header_timeout longer than the run, or it closes the first connections before the reading.
"""
import socket
import ssl
import sys
import time

HTTP_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HTTP_ANSWER = b"Hello, World!"
ECHO_LINE = b"brigade bench echo\n"


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def settled_kib(pid, deadline_s=30.0):
    """VmRSS once it has stopped growing (two readings half a second apart within 0.5%): a
    loaded server may still be reading the heads sent to it."""
    end = time.monotonic() + deadline_s
    before = resident_kib(pid)
    while True:
        time.sleep(0.5)
        now = resident_kib(pid)
        if abs(now - before) <= before * 0.005 or time.monotonic() > end:
            return now
        before = now


def exchange(sock, request, answer):
    sock.sendall(request)
    received = b""
    while answer not in received:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        received += chunk
    return True


def partial_head(size):
    """The first `size` bytes of a request head: the request line, a padded header, no end."""
    start = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "
    if size < len(start):
        raise ValueError(f"--partial-head needs at least {len(start)} bytes")
    return start + b"a" * (size - len(start))


def connect(address, tls):
    sock = socket.create_connection(address, timeout=10)
    if tls is None:
        return sock
    return tls.wrap_socket(sock)


def main(argv):
    echo = "--echo" in argv
    tls = None
    if "--tls" in argv:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    head_bytes = None
    if "--partial-head" in argv:
        at = argv.index("--partial-head")
        head_bytes = int(argv[at + 1])
        del argv[at:at + 2]
    argv = [arg for arg in argv if arg not in ("--echo", "--tls")]
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    port, count, pid = int(argv[0]), int(argv[1]), int(argv[2])
    request, answer = (ECHO_LINE, ECHO_LINE) if echo else (HTTP_REQUEST, HTTP_ANSWER)
    address = ("127.0.0.1", port)

    with connect(address, tls) as first:
        exchange(first, request, answer)
    time.sleep(0.5)
    idle = resident_kib(pid)

    held = []
    ok = 0
    for _ in range(count):
        sock = connect(address, tls)
        if head_bytes is None:
            ok += exchange(sock, request, answer)
        else:
            sock.sendall(partial_head(head_bytes))
            ok += 1
        held.append(sock)
    time.sleep(1.0)
    with_held = resident_kib(pid) if head_bytes is None else settled_kib(pid)
    if head_bytes is None:
        alive = exchange(held[0], request, answer)
    else:
        with connect(address, tls) as fresh:
            alive = exchange(fresh, request, answer)
    for sock in held:
        sock.close()

    per_conn = (with_held - idle) * 1024 / count
    print(f"idle_kib={idle} held_kib={with_held} n={count} ok={ok} alive={int(alive)} "
          f"bytes_per_conn={per_conn:.0f}")
    return 0 if ok == count and alive else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
