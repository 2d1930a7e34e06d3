#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Strict RFC 6455 conformance of examples/echo's /ws, case by case, over raw sockets.

    python3 tests/conformance/websocket_cases.py build/cmake/echo [-v] [CASE-PREFIX ...]

Starts the echo example on 127.0.0.1 (port 0, read back from its log) and runs each case on a
fresh connection with its own opening handshake. The case families follow the numbering of the
Autobahn testsuite's server cases; every case here is generated from the tables below:

    1  framing            text/binary lengths 0..65536 around the 7/16/64-bit length forms,
                          whole and trickled (header byte by byte), non-minimal lengths, unmasked
                          client frames, several frames in one write
    2  ping/pong          ping payloads 0..125 answered by an identical pong, 126 bytes -> 1002,
                          unsolicited pongs ignored, 10 pings in a row
    3  reserved bits      RSV1/2/3 on text, binary, continuation, ping, pong, close -> 1002
    4  opcodes            reserved 3-7 and 11-15 -> 1002
    5  fragmentation      1..N fragments, empty fragments, control frames between fragments,
                          continuation without a start, fragmented control frames, a new data
                          frame inside a fragmented message
    6  UTF-8              a table of valid and invalid sequences, each sent in one frame, split
                          at every point inside the sequence, one byte per frame, and (invalid
                          ones) failing fast: the close must arrive before the final fragment
    7  close              empty close, codes 0..65535 sampled against RFC 6455 §7.4 and the IANA
                          registry, reasons up to 123 bytes, data after close, TCP close
    9  large messages     1, 4 and 16 MiB (minus 3 bytes) in one frame and in 1 KiB fragments;
                          16 MiB + 1 -> 1009 (aster's default websocket_options limit)

Not run, and listed as such in the output: family 10 (automatic fragmentation of what the server
sends) says nothing to check for an echo server that never fragments, and families 12 and 13
(permessage-deflate): this runner never offers an extension, so RSV1 stays reserved here
(family 3); compression is checked by tests/websocket_deflate.cpp and the interop tests.

"Strict" means: every frame the server sends is compared with the expected list (no extra or
missing frames, none masked, no RSV bit), the close code is exactly the one expected, and the
server closes the TCP connection within TCP_CLOSE_BOUND after the close handshake, sending
nothing after its close frame. When the server starts the close, the runner answers with a
close frame echoing the code, as a conforming client does. Choices this runner asserts where
RFC 6455 allows more than one answer:
- a close frame whose reason is not UTF-8 is answered with 1002 (aster checks the close body as
  a whole, §7.4.1 "protocol error"), not 1007;
- invalid UTF-8 inside one frame is reported once that frame is whole; failing fast is required
  at frame boundaries (§8.1), which the split and fail-fast UTF-8 cases check;
- after the client's close, later data frames are not echoed and later pings not answered.

Prints one line per case (id, family, result), the detail of each failure and a count per
family; exits 1 if any case fails. Python 3.9 or newer, standard library only.
"""
import base64
import hashlib
import os
import queue
import re
import socket
import struct
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
START_TIMEOUT = 10.0     # seconds for the server to announce its port
CASE_TIMEOUT = 5.0       # seconds for a case, handshake to TCP close
LARGE_CASE_TIMEOUT = 30.0
TCP_CLOSE_BOUND = 2.0    # seconds from the close handshake to the server closing TCP
RUN_BUDGET = 100.0       # seconds for the whole run; cases left over count as failed
KIB, MIB = 1 << 10, 1 << 20
LIMIT = 16 * MIB         # aster's default websocket_options::max_message_bytes

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
OP_NAMES = {CONT: "cont", TEXT: "text", BINARY: "binary", CLOSE: "close", PING: "ping",
            PONG: "pong"}
EMPTY = "empty"          # expected close: a close frame with no body


# --- frames ------------------------------------------------------------------------------------

def apply_mask(data, key):
    """XOR with the 4-byte key repeated (RFC 6455 §5.3), as one big-integer operation."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame(op, payload=b"", fin=True, rsv=0, mask=True, length_form=None):
    """One client frame. rsv: the three RSV bits as a number 0..7 (RSV1 = 4).
    length_form: 7, 16 or 64 forces that length encoding (default: the shortest)."""
    n = len(payload)
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    first = (0x80 if fin else 0) | (rsv << 4) | op
    mask_bit = 0x80 if mask else 0
    if form == 7:
        head = struct.pack("!BB", first, mask_bit | n)
    elif form == 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(payload, key)


def close_frame(code=None, reason=b""):
    return frame(CLOSE, b"" if code is None else struct.pack("!H", code) + reason)


def fragments(op, pieces):
    """A message as data frames: the first carries `op`, the rest are continuations."""
    out = []
    for i, piece in enumerate(pieces):
        out.append(frame(op if i == 0 else CONT, piece, fin=i == len(pieces) - 1))
    return b"".join(out)


def split_every(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def describe_frame(op, payload):
    name = OP_NAMES.get(op, f"op{op}")
    if op == CLOSE:
        if not payload:
            return "close(no code)"
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        return f"close({code}, {payload[2:][:40]!r})" if code is not None else \
            f"close(bad body {payload!r})"
    shown = payload[:24]
    more = "..." if len(payload) > 24 else ""
    return f"{name}({len(payload)}: {shown!r}{more})"


# --- the server --------------------------------------------------------------------------------

class Server:
    """The echo example on an ephemeral port; its log is kept for failure reports."""

    def __init__(self, binary):
        # Port 0: the kernel picks a free port and the server logs it.
        self.process = subprocess.Popen([binary, "--host", HOST, "--port", "0"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read_log, daemon=True).start()
        self.port = self._wait_for_port()

    def _read_log(self):
        for line in self.process.stderr:
            self.log.append(line.rstrip("\n"))
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no port announced within {START_TIMEOUT:.0f} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"the server exited with status {self.process.wait()}")
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                return int(match.group(1))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- one connection ----------------------------------------------------------------------------

class Closed(Exception):
    """The server closed the TCP connection (how: 'eof' or 'reset')."""


class Connection:
    def __init__(self, port, deadline):
        self.deadline = deadline
        self.sock = socket.create_connection((HOST, port), timeout=self._left())
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.send_failed = False
        self._handshake(port)

    def _left(self, cap=None):
        left = self.deadline - time.monotonic()
        if cap is not None:
            left = min(left, cap)
        if left <= 0:
            raise socket.timeout("case deadline passed")
        return left

    def _handshake(self, port):
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.settimeout(self._left())
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[:end]
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        fields = {}
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if not head.startswith("HTTP/1.1 101 ") or fields.get("sec-websocket-accept") != accept:
            raise RuntimeError(f"handshake refused: {head.splitlines()[0]!r}")

    def _fill(self, cap=None):
        self.sock.settimeout(self._left(cap))
        try:
            data = self.sock.recv(4 * MIB)
        except ConnectionResetError:
            raise Closed("reset")
        if not data:
            raise Closed("eof")
        self.buffer += data

    def send(self, data, chunk=None, pause=0.0):
        """Writes `data`, in pieces of `chunk` bytes when given. Once a write fails (the server
        has closed), later writes are skipped: what the server did is in what it sent."""
        if self.send_failed:
            return
        pieces = [data] if chunk is None else split_every(data, chunk)
        try:
            for piece in pieces:
                self.sock.settimeout(self._left())
                self.sock.sendall(piece)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True

    def read_frame(self, cap=None):
        """The next server frame as (fin, rsv, masked, op, payload); raises Closed or timeout."""
        while True:
            b = self.buffer
            if len(b) >= 2:
                size, at = b[1] & 0x7F, 2
                if size == 126:
                    size, at = (struct.unpack_from("!H", b, 2)[0], 4) if len(b) >= 4 else (0, 0)
                elif size == 127:
                    size, at = (struct.unpack_from("!Q", b, 2)[0], 10) if len(b) >= 10 else (0, 0)
                masked = bool(b[1] & 0x80)
                if at and len(b) >= at + (4 if masked else 0) + size:
                    fin, rsv, op = bool(b[0] & 0x80), (b[0] >> 4) & 7, b[0] & 0x0F
                    if masked:
                        key, at = bytes(b[at:at + 4]), at + 4
                        payload = apply_mask(bytes(b[at:at + size]), key)
                    else:
                        payload = bytes(b[at:at + size])
                    del b[:at + size]
                    return fin, rsv, masked, op, payload
            self._fill(cap)

    def read_to_end(self, bound):
        """After the close handshake: how the server ends TCP within `bound` seconds, and any
        bytes it still sent. Returns (how, extra) with how in 'eof', 'reset', 'open'."""
        extra = bytes(self.buffer)
        self.buffer.clear()
        until = time.monotonic() + bound
        try:
            while True:
                self._fill(max(until - time.monotonic(), 0.001))
                extra += bytes(self.buffer)
                self.buffer.clear()
        except Closed as closed:
            return str(closed), extra
        except (socket.timeout, OSError):
            return "open", extra

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- cases and how one runs --------------------------------------------------------------------

class Case:
    """What to send and what must come back.

    steps: a list, or a function returning (steps, frames) when the case runs (large payloads);
    ("send", bytes[, chunk, pause]) writes; ("pause", seconds); ("await", n, what) reads n frames before going
    on, within AWAIT_BOUND; ("await_close", what) reads until the server's close frame, which must
    come before the next step (fail fast). frames: every non-close frame the server must send, in
    order. close: the code of the server's close frame, or EMPTY. we_close: the steps send the
    client's close frame (otherwise the runner answers the server's close)."""

    def __init__(self, family, title, steps, frames=(), close=1000, we_close=False,
                 timeout=CASE_TIMEOUT):
        self.id = ""
        self.family, self.title, self.steps = family, title, steps
        self.build = steps if callable(steps) else None
        self.frames, self.close, self.we_close, self.timeout = list(frames), close, we_close, timeout

    def expected(self):
        if self.build:
            return f"{self.title}: " + ("echoed" if self.close == 1000 else f"close({self.close})")
        parts = [describe_frame(op, data) for op, data in self.frames]
        if len(parts) > 8:
            parts[4:-2] = [f"... {len(parts) - 6} more ..."]
        parts.append("close(no code)" if self.close == EMPTY else f"close({self.close})")
        for step in self.steps:
            if step[0] == "await_close":
                parts[-1] += f" before {step[1]}"
        return ", ".join(parts) + ", TCP closed"


AWAIT_BOUND = 2.0  # seconds for a reply the case waits for before sending on


def send(data, chunk=None, pause=0.0):
    return ("send", data, chunk, pause)


def trickle(data, pause=0.0002):
    """Writes `data` in small pieces: byte by byte up to 256 bytes, else the first 14 bytes (any
    header) byte by byte and the rest in 997-byte pieces."""
    if len(data) <= 256:
        return [send(data, 1, pause)]
    return [send(data[:14], 1, pause), send(data[14:], 997, pause)]


def echoed(family, title, steps, frames, **kw):
    """The server answers `steps` with `frames`, then the client closes with 1000."""
    return Case(family, title, steps + [send(close_frame(1000))], frames, 1000, True, **kw)


def failed(family, title, steps, code, frames=(), **kw):
    """The server fails the connection with `code` after sending `frames`."""
    return Case(family, title, steps, frames, code, False, **kw)


def run_case(port, case):
    """Runs one case; returns (passed, observed, problems)."""
    steps, frames = case.build() if case.build else (case.steps, case.frames)
    deadline = time.monotonic() + case.timeout
    seen, problems, observed = [], [], []
    server_close = None

    def take(f):
        fin, rsv, masked, op, payload = f
        if masked or rsv or not fin:
            problems.append(f"server frame {describe_frame(op, payload)} with fin={int(fin)} "
                            f"rsv={rsv} masked={int(masked)}")
        if op == CLOSE:
            return payload
        seen.append((op, payload))
        return None

    try:
        conn = Connection(port, deadline)
    except Exception as error:  # noqa: BLE001 - any failure to open is the case's result
        return False, f"no connection: {type(error).__name__}: {error}", ["handshake failed"]
    ended = None
    try:
        for step in steps:
            if step[0] == "send":
                conn.send(*step[1:])
            elif step[0] == "pause":
                time.sleep(step[1])
            elif server_close is None and step[0] in ("await", "await_close"):
                want = step[1] if step[0] == "await" else None
                got = 0
                try:
                    while server_close is None and (want is None or got < want):
                        server_close = take(conn.read_frame(AWAIT_BOUND))
                        got += 1
                except socket.timeout:
                    what = step[-1]
                    problems.append(f"nothing came within {AWAIT_BOUND:.0f} s before {what}")
                    observed.append(f"(silence before {what})")
        while server_close is None:
            server_close = take(conn.read_frame())
    except Closed as how:
        ended = f"TCP {how} without a close frame"
    except socket.timeout:
        ended = f"no close frame within {case.timeout:.0f} s"
    except OSError as error:
        ended = f"socket error {error}"

    shown = [describe_frame(op, data) for op, data in seen]
    if len(shown) > 8:
        shown[4:-2] = [f"... {len(shown) - 6} more ..."]
    observed += shown
    if ended:
        observed.append(ended)
        problems.append(ended)
    else:
        observed.append(describe_frame(CLOSE, server_close))
        if not case.we_close:
            conn.send(frame(CLOSE, server_close[:2]))  # echo the code, as a client should
        how, extra = conn.read_to_end(TCP_CLOSE_BOUND)
        observed.append(f"TCP {how}" if how != "open" else
                        f"TCP still open after {TCP_CLOSE_BOUND:.0f} s")
        if how == "open":
            problems.append("the server did not close TCP after the close handshake")
        if extra:
            problems.append(f"{len(extra)} bytes after the close frame: {extra[:16]!r}")
        problems += check_close(case.close, server_close)
    conn.close()

    if len(seen) != len(frames) or any(a != b for a, b in zip(seen, frames)):
        problems.append("frames differ")
    return not problems, ", ".join(observed), problems


def check_close(expected, body):
    if expected == EMPTY:
        return [] if body == b"" else ["a close body where none was expected"]
    if len(body) < 2:
        return [f"close without a code, expected {expected}"]
    code = struct.unpack("!H", body[:2])[0]
    problems = [] if code == expected else [f"close code {code}, expected {expected}"]
    if utf8_first_error(body[2:]) is not None or not utf8_complete(body[2:]):
        problems.append("close reason is not UTF-8")
    return problems


# --- UTF-8 reference (Unicode Table 3-7), written out for the tables below ----------------------

def utf8_scan(data):
    """(index of the first byte after which `data` can no longer begin valid UTF-8, or None;
    True when nothing is left unfinished)."""
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        if 0xC2 <= b <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= b <= 0xEF:
            need = 2
            lo = 0xA0 if b == 0xE0 else 0x80   # E0 80..9F: overlong
            hi = 0x9F if b == 0xED else 0xBF   # ED A0..BF: surrogates
        elif 0xF0 <= b <= 0xF4:
            need = 3
            lo = 0x90 if b == 0xF0 else 0x80   # F0 80..8F: overlong
            hi = 0x8F if b == 0xF4 else 0xBF   # F4 90..BF: above U+10FFFF
        else:
            return i, False                     # 80..C1, F5..FF never start a character
        for k in range(1, need + 1):
            if i + k >= n:
                return None, False               # cut short: still a valid beginning
            c = data[i + k]
            if not ((lo <= c <= hi) if k == 1 else (0x80 <= c <= 0xBF)):
                return i + k, False
        i += need + 1
    return None, True


def utf8_first_error(data):
    return utf8_scan(data)[0]


def utf8_complete(data):
    return utf8_scan(data)[1]


# --- the case tables ---------------------------------------------------------------------------

def sample(op, size):
    """A payload of `size` bytes: printable ASCII for text, every byte value for binary."""
    if op == TEXT:
        return (b"abcdefghijklmnopqrstuvwxyz0123456789" * (size // 36 + 1))[:size]
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def framing_cases():
    cases = []
    for op in (TEXT, BINARY):
        name = OP_NAMES[op]
        for size in (0, 125, 126, 127, 128, 65535, 65536):
            data = sample(op, size)
            cases.append(echoed("framing", f"{name} of {size} bytes",
                                [send(frame(op, data))], [(op, data)]))
            cases.append(echoed("framing", f"{name} of {size} bytes, trickled",
                                trickle(frame(op, data)), [(op, data)]))
    # §5.2: the length in the shortest form, and the 64-bit form's top bit clear.
    for size, form in ((0, 16), (125, 16), (0, 64), (126, 64), (65535, 64)):
        cases.append(failed("framing", f"{size} bytes with a {form}-bit length",
                            [send(frame(TEXT, sample(TEXT, size), length_form=form))], 1002))
    top_bit = struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) + os.urandom(4) + b"abc"
    cases.append(failed("framing", "64-bit length with the top bit set", [send(top_bit)], 1002))
    # §5.1: a client masks every frame.
    for op, data in ((TEXT, b"unmasked"), (BINARY, b"\x00\x01"), (PING, b"p"),
                     (CLOSE, struct.pack("!H", 1000)), (TEXT, b"")):
        cases.append(failed("framing", f"unmasked {OP_NAMES[op]} of {len(data)} bytes",
                            [send(frame(op, data, mask=False))], 1002))
    unmasked_cont = frame(TEXT, b"masked ", fin=False) + frame(CONT, b"not", mask=False)
    cases.append(failed("framing", "unmasked continuation", [send(unmasked_cont)], 1002))
    # Several frames in one write come back one by one, in order.
    burst = [(TEXT, b"one"), (BINARY, b"\x02"), (TEXT, b""), (BINARY, b""), (TEXT, b"five")]
    cases.append(echoed("framing", "5 messages in one write",
                        [send(b"".join(frame(op, d) for op, d in burst))], burst))
    many = [(TEXT, f"message {i}".encode()) for i in range(100)]
    cases.append(echoed("framing", "100 messages in one write",
                        [send(b"".join(frame(op, d) for op, d in many))], many))
    cases.append(echoed("framing", "100 messages in one write, trickled",
                        [send(b"".join(frame(op, d) for op, d in many), 7)], many))
    return cases


def ping_cases():
    cases = []
    for size in (0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 64, 100, 124, 125):
        data = sample(BINARY, size)
        cases.append(echoed("ping/pong", f"ping of {size} bytes",
                            [send(frame(PING, data)), ("await", 1, "closing")], [(PONG, data)]))
    every = [bytes([size % 256]) * size for size in range(126)]
    cases.append(echoed("ping/pong", "pings of every size 0..125",
                        [send(b"".join(frame(PING, d) for d in every))],
                        [(PONG, d) for d in every]))
    text = "Hello, wörld ✓".encode()
    cases.append(echoed("ping/pong", "ping with a text payload",
                        [send(frame(PING, text))], [(PONG, text)]))
    cases.append(echoed("ping/pong", "ping of 125 bytes, trickled",
                        trickle(frame(PING, sample(BINARY, 125)), 0.0005),
                        [(PONG, sample(BINARY, 125))]))
    # §5.5: control payloads are at most 125 bytes.
    for size, form in ((126, None), (65535, None), (125, 16)):
        how = f" with a {form}-bit length" if form else ""
        cases.append(failed("ping/pong", f"ping of {size} bytes{how}",
                            [send(frame(PING, sample(BINARY, size), length_form=form))], 1002))
    cases.append(failed("ping/pong", "pong of 126 bytes",
                        [send(frame(PONG, sample(BINARY, 126)))], 1002))
    # §5.5.3: an unsolicited pong is not answered.
    for data in (b"", b"unsolicited", sample(BINARY, 125)):
        cases.append(echoed("ping/pong", f"unsolicited pong of {len(data)} bytes, then text",
                            [send(frame(PONG, data) + frame(TEXT, b"alive"))],
                            [(TEXT, b"alive")]))
    cases.append(echoed("ping/pong", "unsolicited pong, then ping",
                        [send(frame(PONG, b"nobody asked") + frame(PING, b"ping"))],
                        [(PONG, b"ping")]))
    ten = [f"ping {i}".encode() for i in range(10)]
    cases.append(echoed("ping/pong", "10 pings in one write",
                        [send(b"".join(frame(PING, d) for d in ten))], [(PONG, d) for d in ten]))
    cases.append(echoed("ping/pong", "10 pings, trickled",
                        [send(b"".join(frame(PING, d) for d in ten), 1, 0.0001)],
                        [(PONG, d) for d in ten]))
    cases.append(echoed("ping/pong", "10 pings, each answered before the next",
                        [s for d in ten for s in (send(frame(PING, d)), ("await", 1, "next"))],
                        [(PONG, d) for d in ten]))
    cases.append(echoed("ping/pong", "ping between two messages",
                        [send(frame(TEXT, b"a") + frame(PING, b"p") + frame(BINARY, b"b"))],
                        [(TEXT, b"a"), (PONG, b"p"), (BINARY, b"b")]))
    return cases


def reserved_bit_cases():
    # Autobahn's shape: a good message, the bad frame, then a ping that must go unanswered.
    # Nothing is negotiated, so any RSV bit fails the connection (§5.2).
    bad_frames = {
        "text": lambda rsv: frame(TEXT, b"reserved", rsv=rsv),
        "binary": lambda rsv: frame(BINARY, b"\x00\xff", rsv=rsv),
        "continuation": lambda rsv: frame(TEXT, b"start", fin=False) +
        frame(CONT, b"end", rsv=rsv),
        "ping": lambda rsv: frame(PING, b"ping", rsv=rsv),
        "pong": lambda rsv: frame(PONG, b"pong", rsv=rsv),
        "close": lambda rsv: frame(CLOSE, struct.pack("!H", 1000), rsv=rsv),
    }
    cases = []
    for name, build in bad_frames.items():
        for rsv in range(1, 8):
            bits = "+".join(f"RSV{i}" for i, bit in ((1, 4), (2, 2), (3, 1)) if rsv & bit)
            steps = [send(frame(TEXT, b"before") + build(rsv) + frame(PING, b"after"))]
            cases.append(failed("reserved bits", f"{bits} on {name}", steps, 1002,
                                [(TEXT, b"before")]))
    cases.append(failed("reserved bits", "RSV1 on text, trickled",
                        trickle(frame(TEXT, b"before") + frame(TEXT, b"bad", rsv=4)), 1002,
                        [(TEXT, b"before")]))
    return cases


def opcode_cases():
    cases = []
    for op in list(range(3, 8)) + list(range(11, 16)):
        kind = "non-control" if op < 8 else "control"
        cases.append(failed("opcodes", f"reserved {kind} opcode {op}",
                            [send(frame(op))], 1002))
        steps = [send(frame(TEXT, b"before") + frame(op, b"reserved") + frame(PING, b"after"))]
        cases.append(failed("opcodes", f"reserved {kind} opcode {op} between messages",
                            steps, 1002, [(TEXT, b"before")]))
    return cases


def fragmentation_cases():
    cases = []
    for op in (TEXT, BINARY):
        name = OP_NAMES[op]
        for count in (1, 2, 3, 4, 5, 8, 16, 64):
            pieces = [sample(op, 5 + i % 7) for i in range(count)]
            cases.append(echoed("fragmentation", f"{name} in {count} fragments",
                                [send(fragments(op, pieces))], [(op, b"".join(pieces))]))
        for pieces in ([b"", b""], [b"", b"", b""], [b"", b"abc"], [b"abc", b""],
                       [b"", b"a", b"", b"b", b""]):
            shape = "+".join(str(len(p)) for p in pieces)
            cases.append(echoed("fragmentation", f"{name} in fragments of {shape} bytes",
                                [send(fragments(op, pieces))], [(op, b"".join(pieces))]))
        pieces = [b"frag", b"men", b"ted"]
        cases.append(echoed("fragmentation", f"{name} in 3 fragments, trickled",
                            trickle(fragments(op, pieces), 0.0005), [(op, b"fragmented")]))
        # §5.4: control frames may come between fragments, and a ping is answered at once.
        steps = [send(frame(op, b"one ", fin=False) + frame(PING, b"mid")),
                 ("await", 1, "the last fragment"), send(frame(CONT, b"two"))]
        cases.append(echoed("fragmentation", f"{name} in 2 fragments, ping between",
                            steps, [(PONG, b"mid"), (op, b"one two")]))
        steps = [send(frame(op, b"one ", fin=False)), send(frame(PING, b"mid"), 1, 0.0005),
                 ("await", 1, "the last fragment"), send(frame(CONT, b"two"), 1, 0.0005)]
        cases.append(echoed("fragmentation", f"{name} in 2 fragments, ping between, trickled",
                            steps, [(PONG, b"mid"), (op, b"one two")]))
        pieces = [f"part {i} ".encode() for i in range(5)]
        steps = []
        for i, piece in enumerate(pieces):
            steps.append(send(frame(op if i == 0 else CONT, piece, fin=i == 4)))
            if i < 4:
                steps += [send(frame(PING, f"ping {i}".encode())), ("await", 1, "the next part")]
        cases.append(echoed("fragmentation", f"{name} in 5 fragments, a ping after each",
                            steps, [(PONG, f"ping {i}".encode()) for i in range(4)] +
                            [(op, b"".join(pieces))]))
        cases.append(echoed("fragmentation", f"{name} in 2 fragments, unsolicited pong between",
                            [send(frame(op, b"one ", fin=False) + frame(PONG, b"x") +
                                  frame(CONT, b"two"))], [(op, b"one two")]))
    # A continuation with no message to continue (§5.4).
    for fin, data in ((True, b"orphan"), (True, b""), (False, b"orphan"), (False, b"")):
        tail = frame(CONT, b"more") + frame(TEXT, b"text") if not fin else b""
        cases.append(failed("fragmentation",
                            f"continuation without a start, fin={int(fin)}, {len(data)} bytes",
                            [send(frame(CONT, data, fin=fin) + tail)], 1002))
    cases.append(failed("fragmentation", "continuation after a whole message",
                        [send(frame(TEXT, b"whole") + frame(CONT, b"orphan"))], 1002,
                        [(TEXT, b"whole")]))
    cases.append(failed("fragmentation", "continuation without a start, trickled",
                        trickle(frame(CONT, b"orphan", fin=False) + frame(TEXT, b"text")), 1002))
    # §5.5: control frames are never fragmented.
    for op in (PING, PONG, CLOSE):
        data = struct.pack("!H", 1000) if op == CLOSE else b"half"
        cases.append(failed("fragmentation", f"fragmented {OP_NAMES[op]}",
                            [send(frame(op, data, fin=False) + frame(CONT, b"rest"))], 1002))
        cases.append(failed("fragmentation", f"fragmented {OP_NAMES[op]} inside a message",
                            [send(frame(TEXT, b"a", fin=False) + frame(op, data, fin=False) +
                                  frame(CONT, b"rest"))], 1002))
    # §5.4: a new data frame before the fragmented message ends.
    for first, second, fin in ((TEXT, TEXT, True), (TEXT, BINARY, True), (BINARY, TEXT, True),
                               (TEXT, TEXT, False), (BINARY, BINARY, False)):
        steps = [send(frame(first, b"start", fin=False) + frame(second, b"intruder", fin=fin))]
        cases.append(failed("fragmentation",
                            f"{OP_NAMES[second]} (fin={int(fin)}) inside fragmented "
                            f"{OP_NAMES[first]}", steps, 1002))
    autobahn_shape = (frame(TEXT, b"fragment1", fin=False) + frame(CONT, b"fragment2") +
                      frame(CONT, b"fragment3", fin=False) + frame(TEXT, b"fragment4"))
    cases.append(failed("fragmentation", "a message, then a continuation, then text",
                        [send(autobahn_shape)], 1002, [(TEXT, b"fragment1fragment2")]))
    return cases


VALID_UTF8 = [
    ("empty", b""),
    ("ASCII with NUL and DEL", b"Hello \x00 \x7f world"),
    ("Greek kosme", "κόσμε".encode()),
    ("mixed 1- to 4-byte", "Hello-µ@ßöäüàá-UTF-8 ✓ 🌍!".encode()),
    ("U+0080, first 2-byte", b"\xc2\x80"),
    ("U+07FF, last 2-byte", b"\xdf\xbf"),
    ("U+0800, first 3-byte", b"\xe0\xa0\x80"),
    ("U+D7FF, before the surrogates", b"\xed\x9f\xbf"),
    ("U+E000, after the surrogates", b"\xee\x80\x80"),
    ("U+FDD0, noncharacter", b"\xef\xb7\x90"),
    ("U+FEFF, byte order mark", b"\xef\xbb\xbf"),
    ("U+FFFD, replacement character", b"\xef\xbf\xbd"),
    ("U+FFFE, noncharacter", b"\xef\xbf\xbe"),
    ("U+FFFF, last 3-byte", b"\xef\xbf\xbf"),
    ("U+10000, first 4-byte", b"\xf0\x90\x80\x80"),
    ("U+1F30D, emoji", b"\xf0\x9f\x8c\x8d"),
    ("U+10FFFF, last code point", b"\xf4\x8f\xbf\xbf"),
    ("every boundary in a row", b"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
                                b"\xf4\x8f\xbf\xbf"),
]

# (name, bytes, at_end): at_end sequences are truncated characters and end the message; the
# others sit between ASCII text, so the byte that makes them invalid is known.
INVALID_UTF8 = [
    ("lone continuation 0x80", b"\x80", False),
    ("lone continuation 0xBF", b"\xbf", False),
    ("2 continuation bytes", b"\x80\xbf", False),
    ("all 64 continuation bytes", bytes(range(0x80, 0xC0)), False),
    ("0xC0, never valid", b"\xc0", False),
    ("0xC1, never valid", b"\xc1", False),
    ("2-byte lead, then space", b"\xc2 ", False),
    ("3-byte lead, then space", b"\xe1 ", False),
    ("4-byte lead, then space", b"\xf1 ", False),
    ("3-byte lead, 1 continuation, then space", b"\xe1\x80 ", False),
    ("4-byte lead, 2 continuations, then space", b"\xf1\x80\x80 ", False),
    ("0xF5, beyond U+10FFFF", b"\xf5\x80\x80\x80", False),
    ("0xF7 lead", b"\xf7\xbf\xbf\xbf", False),
    ("5-byte form", b"\xf8\x88\x80\x80\x80", False),
    ("6-byte form", b"\xfc\x84\x80\x80\x80\x80", False),
    ("0xFE", b"\xfe", False),
    ("0xFF", b"\xff", False),
    ("0xFE 0xFE 0xFF 0xFF", b"\xfe\xfe\xff\xff", False),
    ("overlong NUL, 2 bytes", b"\xc0\x80", False),
    ("overlong '/', 2 bytes", b"\xc0\xaf", False),
    ("overlong U+007F, 2 bytes", b"\xc1\xbf", False),
    ("overlong NUL, 3 bytes", b"\xe0\x80\x80", False),
    ("overlong '/', 3 bytes", b"\xe0\x80\xaf", False),
    ("overlong U+07FF, 3 bytes", b"\xe0\x9f\xbf", False),
    ("overlong NUL, 4 bytes", b"\xf0\x80\x80\x80", False),
    ("overlong '/', 4 bytes", b"\xf0\x80\x80\xaf", False),
    ("overlong U+FFFF, 4 bytes", b"\xf0\x8f\xbf\xbf", False),
    ("overlong '/', 5 bytes", b"\xf8\x80\x80\x80\xaf", False),
    ("surrogate U+D800", b"\xed\xa0\x80", False),
    ("surrogate U+DB7F", b"\xed\xad\xbf", False),
    ("surrogate U+DB80", b"\xed\xae\x80", False),
    ("surrogate U+DBFF", b"\xed\xaf\xbf", False),
    ("surrogate U+DC00", b"\xed\xb0\x80", False),
    ("surrogate U+DF80", b"\xed\xbe\x80", False),
    ("surrogate U+DFFF", b"\xed\xbf\xbf", False),
    ("surrogate pair U+D800 U+DC00", b"\xed\xa0\x80\xed\xb0\x80", False),
    ("surrogate pair U+DBFF U+DFFF", b"\xed\xaf\xbf\xed\xbf\xbf", False),
    ("U+110000", b"\xf4\x90\x80\x80", False),
    ("U+13FFFF", b"\xf4\xbf\xbf\xbf", False),
    ("kosme, surrogate, text", "κόσμε".encode() + b"\xed\xa0\x80edited", False),
    ("truncated 2-byte at the end", b"\xc3", True),
    ("truncated 3-byte at the end", b"\xe2\x9c", True),
    ("truncated 3-byte lead at the end", b"\xe2", True),
    ("truncated 4-byte at the end", b"\xf0\x9f\x8c", True),
    ("truncated U+10FFFF at the end", b"\xf4\x8f\xbf", True),
]


def utf8_cases():
    cases = []

    def add(title, steps, frames, close=1000):
        if close == 1000:
            cases.append(echoed("UTF-8", title, steps, frames))
        else:
            cases.append(failed("UTF-8", title, steps, close))

    table = [(name, b"ok " + seq, len(b"ok ") , len(seq), True) for name, seq in VALID_UTF8]
    for name, seq, at_end in INVALID_UTF8:
        payload = b"ok " + seq + (b"" if at_end else b" ok")
        table.append((name, payload, 3, len(seq), False))
    for name, payload, start, size, valid in table:
        first_error, complete = utf8_scan(payload)
        assert (first_error is None and complete) == valid, name  # the table agrees
        assert valid == _python_accepts(payload), name             # and so does Python
        result = ([(TEXT, payload)], 1000) if valid else ([], 1007)
        add(f"{name}: one frame", [send(frame(TEXT, payload))], *result)
        # Split into two fragments at every point inside the sequence and at its two ends.
        for cut in range(start, start + size + 1):
            pieces = [payload[:cut], payload[cut:]]
            add(f"{name}: fragments of {cut}+{len(payload) - cut} bytes",
                [send(fragments(TEXT, pieces))], *result)
            if size > 8:
                break  # long runs: the first cut is enough
        add(f"{name}: one byte per fragment",
            [send(fragments(TEXT, [payload[i:i + 1] for i in range(len(payload))] or [b""]))],
            *result)
        if valid or first_error is None:
            continue
        # Fail fast (§8.1): once the bad byte has arrived, the close comes without waiting for
        # the rest. The fragment before it ends just before the bad byte, so a character may
        # be cut there, then the bad byte alone.
        steps = [send(frame(TEXT, payload[:first_error], fin=False) +
                      frame(CONT, payload[first_error:first_error + 1], fin=False)),
                 ("await_close", "the final fragment"),
                 send(frame(CONT, payload[first_error + 1:]))]
        add(f"{name}: fails fast, before the final fragment", steps, [], 1007)
    return cases


def _python_accepts(data):
    try:
        data.decode("utf-8", "strict")
        return True
    except UnicodeDecodeError:
        return False


def close_code_allowed(code):
    """RFC 6455 §7.4.1-7.4.2 and the IANA registry: 1000-1003, 1007-1014 and 3000-4999 may be
    sent. 1004 is reserved, 1005, 1006 and 1015 are for reporting only, 1016-2999 are kept for
    future protocol revisions, and 0-999 and 5000 up are not used."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_cases():
    cases = []
    bye = close_frame(1000)
    # After the client's close the server answers it and ignores everything else (§5.5.1).
    cases.append(Case("close", "text, then close", [send(frame(TEXT, b"last") + bye)],
                      [(TEXT, b"last")], 1000, True))
    for title, after in (("close twice", bye), ("ping after close", frame(PING, b"late")),
                         ("text after close", frame(TEXT, b"late")),
                         ("fragment after close", frame(TEXT, b"late", fin=False)),
                         ("invalid frame after close", frame(6, b"late"))):
        cases.append(Case("close", title, [send(bye + after)], [], 1000, True))
    cases.append(Case("close", "close between the fragments of a message",
                      [send(frame(TEXT, b"one", fin=False) + bye + frame(CONT, b"two"))],
                      [], 1000, True))
    big = sample(TEXT, 256 * KIB)
    cases.append(Case("close", "256 KiB text, close, ping",
                      [send(frame(TEXT, big) + bye + frame(PING, b"late"))],
                      [(TEXT, big)], 1000, True))
    cases.append(Case("close", "close, then the client goes quiet",
                      [send(bye), ("pause", 0.05)], [], 1000, True))
    # Close bodies (§5.5.1): empty, or a code and at most 123 bytes of UTF-8.
    cases.append(Case("close", "close without a body", [send(close_frame())], [], EMPTY, True))
    cases.append(Case("close", "close body of 1 byte", [send(frame(CLOSE, b"\x03"))], [], 1002,
                      True))
    for reason in (b"", b"bye", b"r" * 123, "é".encode() * 61 + b"x",
                   "🌍".encode() * 30 + b"xyz", "κόσμε".encode()):
        cases.append(Case("close", f"1000 with a reason of {len(reason)} bytes",
                          [send(close_frame(1000, reason))], [], 1000, True))
    cases.append(Case("close", "1000 with a reason of 124 bytes (body of 126)",
                      [send(close_frame(1000, b"r" * 124))], [], 1002, True))
    # A reason that is not UTF-8: aster fails with 1002 (the close body is malformed), which
    # this runner asserts; 1007 would be allowed too.
    for name, reason in (("0xFF", b"\xff"), ("a surrogate", b"\xed\xa0\x80"),
                         ("a truncated character", b"bye \xc3"), ("an overlong '/'", b"\xc0\xaf"),
                         ("120 good bytes, then 0xFE", b"r" * 120 + b"\xfe")):
        cases.append(Case("close", f"1000 with a reason holding {name}",
                          [send(close_frame(1000, reason))], [], 1002, True))
    # Codes: every one the registry distinguishes, its neighbours, and a sample of 0..5000.
    codes = set(range(998, 1018)) | {0, 1, 500, 1100, 1999, 2000, 2999, 3000, 3001, 3999, 4000,
                                     4001, 4500, 4999, 5000, 5001, 6000, 65535}
    codes |= set(range(0, 5001, 250))
    for code in sorted(codes):
        expect = code if close_code_allowed(code) else 1002
        verdict = "echoed" if expect == code else "1002"
        cases.append(Case("close", f"code {code} ({verdict})",
                          [send(close_frame(code, b"reason"))], [], expect, True))
        if code in (1000, 1004, 3000, 4999, 5000):
            cases.append(Case("close", f"code {code} without a reason ({verdict})",
                              [send(close_frame(code))], [], expect, True))
    cases.append(Case("close", "code 1000, trickled", trickle(close_frame(1000, b"slowly"), 0.001),
                      [], 1000, True))
    return cases


def large_cases():
    # Built when the case runs (Case.build), so only one large message is in memory at a time.
    cases = []
    unit = "The quick brown fox ✓ é 🌍\n".encode()  # 1 KiB fragments cut through characters

    def payload(op, size):
        if op == BINARY:
            return os.urandom(size)
        return unit * (size // len(unit)) + b"x" * (size % len(unit))

    def one_frame(op, size):
        def build():
            data = payload(op, size)
            return [send(frame(op, data)), send(close_frame(1000))], [(op, data)]
        return build

    def in_fragments(op, size):
        def build():
            data = payload(op, size)
            return [send(fragments(op, split_every(data, KIB))), send(close_frame(1000))], \
                [(op, data)]
        return build

    def over_in_one_frame(op):
        def build():
            # The frame header alone is enough to refuse it (§7.4.1: 1009).
            data = frame(op, payload(op, LIMIT + 1))
            return [send(data[:64 * KIB]), ("await_close", "the rest of the frame"),
                    send(data[64 * KIB:])], []
        return build

    def over_in_fragments(op):
        def build():
            return [send(fragments(op, split_every(payload(op, LIMIT), KIB) + [b"!"]))], []
        return build

    for op in (TEXT, BINARY):
        name = OP_NAMES[op]
        for label, size in (("1 MiB", MIB), ("4 MiB", 4 * MIB), ("16 MiB - 3", LIMIT - 3),
                            ("16 MiB (the limit)", LIMIT)):
            cases.append(Case("large messages", f"{name} of {label} in one frame",
                              one_frame(op, size), [], 1000, True, LARGE_CASE_TIMEOUT))
            if size < LIMIT:
                cases.append(Case("large messages", f"{name} of {label} in 1 KiB fragments",
                                  in_fragments(op, size), [], 1000, True, LARGE_CASE_TIMEOUT))
        cases.append(Case("large messages", f"{name} of 16 MiB + 1 in one frame",
                          over_in_one_frame(op), [], 1009, False, LARGE_CASE_TIMEOUT))
        cases.append(Case("large messages", f"{name} of 16 MiB + 1 in 1 KiB fragments",
                          over_in_fragments(op), [], 1009, False, LARGE_CASE_TIMEOUT))
    return cases


NOT_RUN = [
    ("10", "auto-fragmentation", "the echo server never fragments what it sends: "
                                 "nothing to check"),
    ("12", "compression", "this runner offers no extension; permessage-deflate is covered by "
                          "tests/websocket_deflate.cpp and interop.websockets_python"),
    ("13", "compression", "as 12: negotiation (13.x parameter lists) in tests/websocket_deflate.cpp"),
]

FAMILIES = [("1", framing_cases), ("2", ping_cases), ("3", reserved_bit_cases),
            ("4", opcode_cases), ("5", fragmentation_cases), ("6", utf8_cases),
            ("7", close_cases), ("9", large_cases)]


def all_cases():
    """Every case, numbered family.index in the order of its table."""
    cases = []
    for number, build in FAMILIES:
        for index, case in enumerate(build(), 1):
            case.id = f"{number}.{index}"
            cases.append(case)
    return cases


# --- main --------------------------------------------------------------------------------------

def main(argv):
    args = [a for a in argv[1:] if not a.startswith("-")]
    verbose = "-v" in argv[1:]
    if not args:
        sys.exit(f"usage: {argv[0]} PATH/TO/echo [-v] [CASE-ID-PREFIX ...]")
    binary, prefixes = args[0], args[1:]
    cases = [c for c in all_cases()
             if not prefixes or any(c.id == p or c.id.startswith(p + ".") for p in prefixes)]
    began = time.monotonic()
    server = None
    results = []  # (case, passed, observed, problems)
    try:
        server = Server(binary)
        print(f"echo on {HOST}:{server.port}; {len(cases)} cases, Python "
              f"{sys.version.split()[0]}", flush=True)
        for case in cases:
            if time.monotonic() - began > RUN_BUDGET:
                results.append((case, False, "not run", [f"over the {RUN_BUDGET:.0f} s budget"]))
                continue
            if server.process.poll() is not None:
                results.append((case, False, "not run",
                                [f"the server exited with status {server.process.returncode}"]))
                continue
            passed, observed, problems = run_case(server.port, case)
            results.append((case, passed, observed, problems))
    except Exception as error:  # noqa: BLE001 - reported, and the run fails
        print(f"FAIL setup: {type(error).__name__}: {error}", flush=True)
        if server is not None and server.log:
            print("--- server log ---\n" + "\n".join(server.log[-40:]), flush=True)
        return 1
    finally:
        if server is not None:
            server.stop()

    width = max(len(c.id) for c, *_ in results) if results else 4
    print(f"\n{'case':<{width}}  {'family':<15} result  title")
    for case, passed, observed, problems in results:
        print(f"{case.id:<{width}}  {case.family:<15} {'pass' if passed else 'FAIL'}    "
              f"{case.title}")
        if not passed or verbose:
            print(f"{'':<{width}}    expected: {case.expected()}")
            print(f"{'':<{width}}    observed: {observed}")
            for problem in problems:
                print(f"{'':<{width}}    - {problem}")
    for number, family, why in NOT_RUN:
        print(f"{number:<{width}}  {family:<15} n/a     not run: {why}")

    print("\nfamily             cases  passed")
    failures = 0
    for number, build in FAMILIES:
        rows = [(c, ok) for c, ok, *_ in results if c.id.split(".")[0] == number]
        if rows:
            good = sum(1 for _, ok in rows if ok)
            failures += len(rows) - good
            print(f"{number:>2} {rows[0][0].family:<15} {len(rows):>5}  {good:>6}")
    total = len(results)
    print(f"   {'all':<15} {total:>5}  {total - failures:>6}   "
          f"({time.monotonic() - began:.1f} s; families 10, 12 and 13 not run, see above)")
    if failures:
        print(f"{failures} of {total} cases failed", flush=True)
        return 1
    print(f"all {total} cases passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
