#!/usr/bin/env python3
"""Memory per idle connection: hold N connections to a server and read its resident memory.

usage: conn_hold.py [--echo] [--tls] PORT N PID

Opens one connection, makes one exchange and closes it (so lazily built state exists), reads
the server's VmRSS (PID: the process that serves; nginx's worker, not its master), then opens N
connections to 127.0.0.1:PORT, makes one exchange on each and keeps them all open, waits a
second and reads VmRSS again. The exchange is a keep-alive `GET /` answered "Hello, World!",
or with --echo a line the server sends back. With --tls every connection speaks TLS first
(the server's certificate is not verified: a memory probe, not a client). Prints one line:

    idle_kib=A held_kib=B n=N ok=K alive=0|1 bytes_per_conn=(B-A)*1024/N

alive=1 when the first held connection still answers afterwards.
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


def exchange(sock, request, answer):
    sock.sendall(request)
    received = b""
    while answer not in received:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        received += chunk
    return True


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
        ok += exchange(sock, request, answer)
        held.append(sock)
    time.sleep(1.0)
    with_held = resident_kib(pid)
    alive = exchange(held[0], request, answer)
    for sock in held:
        sock.close()

    per_conn = (with_held - idle) * 1024 / count
    print(f"idle_kib={idle} held_kib={with_held} n={count} ok={ok} alive={int(alive)} "
          f"bytes_per_conn={per_conn:.0f}")
    return 0 if ok == count and alive else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
