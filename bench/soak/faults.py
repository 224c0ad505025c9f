#!/usr/bin/env python3
"""faults.py — misbehaving clients beside the soak's steady load (issue 23).

usage: faults.py PORT SECONDS DONE_FILE [WRITE_TIMEOUT_S]

For SECONDS it repeats, twice a second:
  * a client that disconnects mid-request (half a request head, then close);
  * one that disconnects mid-body (Content-Length: 100, 10 bytes, close);
  * one that disconnects mid-response (GET /big?mb=8, reads 64 KiB, closes);
  * a request whose handler throws (GET /throw: the connection is closed);
every 10 s a client that never reads its response (GET /big?mb=256 with a
tiny receive buffer; closed 3 s after the write timeout); and every 15 s a
descriptor flood: 300 connections at once, enough to exhaust the server's
descriptors under a low `ulimit -n`, held 1 s and closed — after which a
fresh connection must get its answer (the server backed off and recovered).

Then one last never-reading client is left open, WRITE_TIMEOUT_S + 1.5 s
pass (the server's write deadline must have freed its goroutine and its
descriptor), DONE_FILE is written with the tallies, and the client stays
open until SIGTERM, so that the driver's probe sees the server idle while
that client still holds its end.
"""
import json
import resource
import socket
import sys
import time

port, seconds, done_file = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
write_timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

tally = {"mid_request": 0, "mid_body": 0, "mid_response": 0, "throw": 0, "throw_closed": 0,
         "never_read": 0, "floods": 0, "recovered": 0, "not_recovered": 0, "errors": 0}


def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def get(path, rcvbuf=None):
    s = connect(rcvbuf)
    s.sendall(("GET %s HTTP/1.1\r\nHost: soak\r\n\r\n" % path).encode())
    return s


def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


def fresh_request_ok():
    """A new connection gets 200 within 10 s."""
    s = connect()
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
        return read_all(s).startswith(b"HTTP/1.1 200")
    finally:
        s.close()


def step(name, f):
    try:
        f()
        tally[name] += 1
    except OSError as e:
        tally["errors"] += 1
        print("faults: %s: %s" % (name, e), file=sys.stderr)


def mid_request():
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: so")
    s.close()


def mid_body():
    s = connect()
    s.sendall(b"POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 100\r\n\r\n0123456789")
    s.close()


def mid_response():
    s = get("/big?mb=8")
    got = 0
    while got < 65536:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    s.close()


def throw():
    s = get("/throw")
    # The server closes the connection (Go answers nothing; neither does goro).
    if not read_all(s).startswith(b"HTTP/1.1 2"):
        tally["throw_closed"] += 1
    s.close()


never_readers = []  # (socket, when to close)


def never_read():
    never_readers.append((get("/big?mb=256", rcvbuf=4096), time.time() + write_timeout + 3))


def flood():
    socks = []
    try:
        for _ in range(300):
            socks.append(connect())
    except OSError as e:
        print("faults: flood stopped at %d connections: %s" % (len(socks), e), file=sys.stderr)
    time.sleep(1)
    for s in socks:
        s.close()
    ok = False
    for _ in range(3):
        try:
            if fresh_request_ok():
                ok = True
                break
        except OSError as e:
            print("faults: after flood: %s" % e, file=sys.stderr)
    tally["recovered" if ok else "not_recovered"] += 1


start = time.time()
next_never, next_flood = start + 2, start + 5
while time.time() - start < seconds:
    now = time.time()
    step("mid_request", mid_request)
    step("mid_body", mid_body)
    step("mid_response", mid_response)
    step("throw", throw)
    if now >= next_never:
        step("never_read", never_read)
        next_never = now + 10
    if now >= next_flood:
        step("floods", flood)
        next_flood = now + 15
    for s, when in [x for x in never_readers if x[1] <= now]:
        s.close()
    never_readers[:] = [x for x in never_readers if x[1] > now]
    time.sleep(0.5)

for s, _ in never_readers:
    s.close()
last = get("/big?mb=256", rcvbuf=4096)  # held open past the probe
tally["never_read"] += 1
time.sleep(write_timeout + 1.5)
with open(done_file, "w") as f:
    json.dump(tally, f)
print("faults: " + json.dumps(tally), file=sys.stderr)
while True:  # until the driver's SIGTERM, which closes `last` with the process
    time.sleep(60)
