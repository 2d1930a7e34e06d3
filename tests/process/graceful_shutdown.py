#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Graceful shutdown of a real server process with real clients over loopback.

Usage: graceful_shutdown.py PATH/TO/hello

Runs examples/hello twice:
 1. SIGTERM with an idle keep-alive connection, a request in flight (body half sent) and an open
    WebSocket: the WebSocket gets a close frame with 1001 and the app logs close_code=1001, the
    request in flight is answered with `Connection: close`, the idle connection is closed, new
    connections are refused, and the process exits 0 promptly.
 2. SIGINT with a WebSocket client that never answers the close frame and a request that never
    completes, under --shutdown-timeout 1000: the process cuts them and exits 0 after about one
    second, not later.
Only the standard library is used; every wait is bounded.
"""

import base64
import os
import signal
import socket
import struct
import subprocess
import sys
import time

WAIT = 10.0  # seconds: the bound on any single wait


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, *flags):
    port = free_port()
    proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    sys.exit("the server did not start listening on port %d: %s" % (port, proc.stdout.read()))


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    s.settimeout(WAIT)
    return s


def read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("connection closed before %r; got %r" % (marker, data))
        data += chunk
    return data


def read_to_eof(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def masked_frame(opcode, payload):
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + body


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(sock, 8))[0]
    return b0 & 0x0F, read_exact(sock, length)


def open_websocket(port):
    s = connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    head = read_until(s, b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    s.sendall(masked_frame(0x1, b"Hello!"))
    assert read_frame(s) == (0x1, b"OK!")
    return s


def stop(proc, sig):
    proc.send_signal(sig)


def finish(proc, started, limit):
    try:
        code = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the server did not exit within %.1f s of the signal" % limit)
    return code, time.monotonic() - started, proc.stdout.read().decode(errors="replace")


def graceful(binary):
    proc, port = start(binary)
    try:
        idle = connect(port)
        idle.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        assert b"Hello, World!" in read_until(idle, b"Hello, World!")

        in_flight = connect(port)
        in_flight.sendall(b"POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nab")
        ws = open_websocket(port)
        time.sleep(0.2)  # let the server read the half body

        started = time.monotonic()
        stop(proc, signal.SIGTERM)

        opcode, payload = read_frame(ws)
        assert opcode == 0x8, "expected a close frame, got opcode %d" % opcode
        code = struct.unpack("!H", payload[:2])[0]
        assert code == 1001, "close code %d, expected 1001" % code
        ws.sendall(masked_frame(0x8, struct.pack("!H", 1001)))
        assert read_to_eof(ws) == b"", "bytes after the close frame"
        ws.close()

        assert read_to_eof(idle) == b"", "the idle keep-alive connection got bytes, not a close"
        idle.close()

        in_flight.sendall(b"cdef")
        answer = read_to_eof(in_flight)
        assert answer.startswith(b"HTTP/1.1 405"), answer
        assert b"connection: close" in answer.lower(), answer
        in_flight.close()

        refused = False
        for _ in range(50):  # the acceptor closes at once; allow for scheduling
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.02)
            except OSError:
                refused = True
                break
        assert refused or proc.poll() is not None, "new connections still accepted after SIGTERM"

        code, took, log = finish(proc, started, WAIT)
        assert code == 0, "exit status %d\n%s" % (code, log)
        assert "Disconnected: close_code=1001" in log, log
        assert took < 1.5, "took %.2f s to stop" % took
        print("ok: SIGTERM: WebSocket closed with 1001, in-flight request answered, "
              "idle connection closed, exit 0 in %.3f s" % took)
    finally:
        if proc.poll() is None:
            proc.kill()


def deadline(binary):
    proc, port = start(binary, "--shutdown-timeout", "1000")
    try:
        ws = open_websocket(port)  # will never answer the close frame
        stuck = connect(port)
        stuck.sendall(b"POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab")
        time.sleep(0.2)

        started = time.monotonic()
        stop(proc, signal.SIGINT)
        opcode, payload = read_frame(ws)
        assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1001, (opcode, payload)

        code, took, log = finish(proc, started, WAIT)
        assert code == 0, "exit status %d\n%s" % (code, log)
        assert 0.8 <= took < 4.0, "exited %.2f s after SIGINT with a 1 s shutdown timeout" % took
        assert "shutdown timeout" in log, log
        for s in (ws, stuck):  # the cut connections are closed, not left open
            try:
                rest = read_to_eof(s)
            except ConnectionResetError:
                rest = b""
            assert b"HTTP/1.1 2" not in rest, rest
        print("ok: SIGINT: stuck connections cut at the 1 s deadline, exit 0 in %.3f s" % took)
    finally:
        if proc.poll() is None:
            proc.kill()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    graceful(sys.argv[1])
    deadline(sys.argv[1])


if __name__ == "__main__":
    main()
