#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Interop: drives examples/echo's /ws with the Python `websockets` library, a client aster shares
# no code with, over 127.0.0.1.
#
#   /usr/bin/python3 tests/interop/websockets_client.py build/cmake/echo
#
# Needs Debian's python3-websockets (10.x: the asyncio client, `websockets.connect`). Prints one
# line per case and exits non-zero if any case fails. The server is always stopped.
import asyncio
import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time

try:
    import websockets
    import websockets.exceptions
    from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                          PerMessageDeflate)
    from websockets.frames import Opcode
except ImportError as error:
    sys.exit(f"websockets_client.py: the websockets library is missing ({error}); "
             "install python3-websockets and run this with /usr/bin/python3")

CASE_TIMEOUT = 30.0   # seconds per case, handshake and close included
START_TIMEOUT = 10.0  # seconds for the server to announce its port
MIB = 1 << 20
ECHO_LIMIT = 16 * MIB  # aster's default websocket_options::max_message_bytes


class Server:
    """The echo example on an ephemeral port; its log is kept for failure reports."""

    def __init__(self, binary):
        # Port 0: the kernel picks a free port and the server prints it, so no port can be taken
        # between choosing it and binding it.
        self.process = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0"],
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
        port = None
        while port is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("the server did not announce its port within "
                                   f"{START_TIMEOUT:.0f} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"the server exited with status {self.process.wait()}")
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
        # The announcement follows listen(); still, check that the port answers before testing.
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class FrameLog(logging.Handler):
    """The frames a connection sends ('>') and receives ('<'), taken from websockets' debug log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.frames = []

    def emit(self, record):
        frame = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if record.msg in ("> %s", "< %s") and hasattr(frame, "opcode"):
            self.frames.append((record.msg[0], frame.opcode, frame.fin, bytes(frame.data)))

    def sent(self):
        return [(op, fin) for way, op, fin, _ in self.frames if way == ">"]

    def received(self, *opcodes):
        return [(op, fin, data) for way, op, fin, data in self.frames
                if way == "<" and op in opcodes]


def connect(port, path="/ws", frames=None, **options):
    logger = None
    if frames is not None:
        logger = logging.getLogger(f"interop.{id(frames)}")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(frames)
    options.setdefault("compression", None)
    return websockets.connect(f"ws://127.0.0.1:{port}{path}", logger=logger, open_timeout=10,
                              close_timeout=5, ping_interval=None, max_size=4 * ECHO_LIMIT,
                              **options)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def describe(data):
    return f"{type(data).__name__} of {len(data)}: {data[:40]!r}"


async def echoes(ws, message):
    await ws.send(message)
    reply = await ws.recv()
    expect(type(reply) is type(message), f"sent {type(message).__name__}, got {describe(reply)}")
    expect(reply == message, f"echo differs: sent {describe(message)}, got {describe(reply)}")


# --- the cases ------------------------------------------------------------------------------

async def text_echo(port):
    async with connect(port) as ws:
        await echoes(ws, "hello, aster")
        await echoes(ws, "héllo ✓ \U0001f30d")  # 2-, 3- and 4-byte UTF-8
        await echoes(ws, "")


async def binary_echo(port):
    async with connect(port) as ws:
        await echoes(ws, bytes(range(256)))
        await echoes(ws, b"\x00\xff\x00 not text \xc3")
        await echoes(ws, b"")


async def fragmented_messages(port):
    frames = FrameLog()
    async with connect(port, frames=frames) as ws:
        pieces = [b"frag", b"mented \x00\xff", b" binary"]
        await ws.send(pieces)
        reply = await ws.recv()
        expect(reply == b"".join(pieces), f"binary fragments: got {describe(reply)}")
        await ws.send(["frag", "mented ✓ ", "text"])
        reply = await ws.recv()
        expect(reply == "fragmented ✓ text", f"text fragments: got {describe(reply)}")
    # websockets sends each piece as a non-final frame and ends with an empty final continuation.
    sent = [(op, fin) for op, fin in frames.sent() if op != Opcode.CLOSE]
    tail = [(Opcode.CONT, False), (Opcode.CONT, False), (Opcode.CONT, True)]
    expected = [(Opcode.BINARY, False)] + tail + [(Opcode.TEXT, False)] + tail
    expect(sent == expected, f"the client did not fragment as expected: {sent}")
    replies = [(op, fin) for op, fin, _ in frames.received(Opcode.TEXT, Opcode.BINARY, Opcode.CONT)]
    expect(replies == [(Opcode.BINARY, True), (Opcode.TEXT, True)],
           f"each echo should be one final frame: {replies}")


async def ping_inside_fragmented_message(port):
    frames = FrameLog()
    async with connect(port, frames=frames) as ws:
        waiters = []

        async def pieces():
            yield "before "
            # RFC 6455 §5.4: control frames may come between the fragments of a message.
            waiters.append(await ws.ping(b"mid-message"))
            yield "after"

        await ws.send(pieces())
        await asyncio.wait_for(waiters[0], 5)
        reply = await ws.recv()
        expect(reply == "before after", f"got {describe(reply)}")
    sent = [op for op, _ in frames.sent()]
    expect(sent[:4] == [Opcode.TEXT, Opcode.PING, Opcode.CONT, Opcode.CONT],
           f"the ping did not go between the fragments: {sent}")


async def large_text(port):
    async with connect(port) as ws:
        message = "".join(chr(ord("a") + i % 26) for i in range(MIB))
        await echoes(ws, message)


async def large_binary(port):
    async with connect(port) as ws:
        await echoes(ws, os.urandom(MIB))


async def length_boundaries(port):
    # RFC 6455 §5.2: 7-bit lengths up to 125, 16-bit up to 65535, 64-bit beyond.
    async with connect(port) as ws:
        for size in (125, 126, 127, 65535, 65536, 65537):
            await echoes(ws, bytes(size))
            await echoes(ws, "t" * size)


async def pipelined_messages(port):
    # Many messages sent before any echo is read: every one comes back, in order.
    async with connect(port) as ws:
        count = 2000
        for i in range(count):
            await ws.send(f"message {i}")
        for i in range(count):
            reply = await ws.recv()
            expect(reply == f"message {i}", f"echo {i} is {describe(reply)}")


async def ping_pong(port):
    frames = FrameLog()
    async with connect(port, frames=frames) as ws:
        waiter = await ws.ping(b"interop-ping")
        latency = await asyncio.wait_for(waiter, 5)
        expect(latency >= 0, f"latency {latency}")
        waiter = await ws.ping()  # four random bytes
        await asyncio.wait_for(waiter, 5)
        await echoes(ws, "still open")
    pongs = [data for _, _, data in frames.received(Opcode.PONG)]
    expect(pongs[:1] == [b"interop-ping"], f"pong payloads: {pongs}")  # §5.5.3: same payload


async def close_normal(port):
    async with connect(port) as ws:
        await echoes(ws, "bye")
        await asyncio.wait_for(ws.close(1000, "done"), 10)
        expect(ws.close_code == 1000, f"close code seen by the client: {ws.close_code}")


async def close_custom_code(port):
    async with connect(port) as ws:
        await echoes(ws, "bye")
        await asyncio.wait_for(ws.close(4000, "custom reason"), 10)
        # §5.5.1: the server answers with a close frame echoing the code.
        expect(ws.close_code == 4000, f"close code seen by the client: {ws.close_code}")


async def server_closes_on_oversized_message(port):
    # The echo app never closes by itself; going over its 16 MiB message limit makes the server
    # close (RFC 6455 §7.4.1: 1009), which a client must see as a close frame, not a reset.
    # One frame whose header already says too much, and fragments that only add up to too much.
    for message in (b"x" * (ECHO_LIMIT + 1), [b"x" * MIB] * (ECHO_LIMIT // MIB) + [b"!"]):
        async with connect(port) as ws:
            await echoes(ws, "below the limit")
            try:
                await ws.send(message)
                reply = await ws.recv()
                raise AssertionError(f"the server echoed {describe(reply)} over its limit")
            except websockets.exceptions.ConnectionClosed as closed:
                expect(closed.rcvd is not None, f"no close frame from the server: {closed}")
                expect(closed.rcvd.code == 1009, f"close code from the server: {closed.rcvd}")


async def handshake_bad_path(port):
    rejected = getattr(websockets.exceptions, "InvalidStatus", None)
    rejected_code = websockets.exceptions.InvalidStatusCode
    try:
        async with connect(port, path="/no-such-socket"):
            raise AssertionError("the handshake on an unknown path succeeded")
    except rejected_code as error:
        expect(error.status_code == 404, f"status {error.status_code}")
    except Exception as error:
        if rejected is None or not isinstance(error, rejected):
            raise
        expect(error.response.status_code == 404, f"status {error.response.status_code}")


def agreed_deflate(ws):
    """The PerMessageDeflate extension the handshake agreed, after checking both headers."""
    offered = ws.request_headers.get("Sec-WebSocket-Extensions", "")
    expect("permessage-deflate" in offered, f"the client offered {offered!r}")
    answer = ws.response_headers.get_all("Sec-WebSocket-Extensions")
    expect(len(answer) == 1 and answer[0].startswith("permessage-deflate"),
           f"the server answered Sec-WebSocket-Extensions: {answer}")
    expect(len(ws.extensions) == 1 and isinstance(ws.extensions[0], PerMessageDeflate),
           f"negotiated extensions: {ws.extensions}")
    return ws.extensions[0], answer[0]


def record_rsv1(extension, sent=None):
    """RSV1 of every data frame the server sends, as it arrives (before inflating); with `sent`,
    also of every first frame the client sends, as it leaves (after compressing)."""
    seen = []
    decode, encode = extension.decode, extension.encode

    def decoding(frame, *, max_size=None):
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            seen.append(frame.rsv1)
        return decode(frame, max_size=max_size)

    def encoding(frame):
        frame = encode(frame)
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            sent.append(frame.rsv1)
        return frame
    extension.decode = decoding
    if sent is not None:
        extension.encode = encoding
    return seen


async def deflate_negotiated(port):
    # websockets offers "permessage-deflate; client_max_window_bits" by default; aster answers
    # with its 12-bit windows, and both ends then compress.
    async with connect(port, compression="deflate") as ws:
        extension, answer = agreed_deflate(ws)
        expect(answer == "permessage-deflate; server_max_window_bits=12; "
                         "client_max_window_bits=12", f"answer {answer!r}")
        expect(extension.local_max_window_bits == 12 and extension.remote_max_window_bits == 12,
               f"windows {extension}")
        sent = []
        compressed = record_rsv1(extension, sent)
        await echoes(ws, "compressed " * 100)
        await echoes(ws, "héllo ✓ \U0001f30d " * 50)
        await echoes(ws, bytes(1000))
        await echoes(ws, os.urandom(5000))
        await echoes(ws, "".join(chr(ord("a") + i % 26) for i in range(MIB)))
        await echoes(ws, os.urandom(MIB))
        pieces = ["frag", "mented ✓ " * 20, "text"]  # RSV1 on the first frame only
        await ws.send(pieces)
        reply = await ws.recv()
        expect(reply == "".join(pieces), f"compressed fragments: got {describe(reply)}")
        expect(all(compressed), f"RSV1 of the server's frames: {compressed}")
        expect(sent and all(sent), f"RSV1 of the client's frames: {sent}")  # aster inflated them
        await echoes(ws, "short")  # below aster's 64-byte threshold: sent as is
        expect(compressed[-1] is False, f"RSV1 of a 5-byte echo: {compressed[-1]}")
        await echoes(ws, "compressed again " * 10)
        expect(compressed[-1] is True, "compression did not resume")


async def deflate_fragments_and_pings(port):
    frames = FrameLog()
    async with connect(port, frames=frames, compression="deflate") as ws:
        agreed_deflate(ws)
        waiters = []

        async def pieces():
            yield "before " * 30
            waiters.append(await ws.ping(b"mid-message"))  # between compressed fragments
            yield "after " * 30

        await ws.send(pieces())
        await asyncio.wait_for(waiters[0], 5)
        reply = await ws.recv()
        expect(reply == "before " * 30 + "after " * 30, f"got {describe(reply)}")
        await ws.send([b"\x00" * 10000, b"\xff" * 10000, b""])
        reply = await ws.recv()
        expect(reply == b"\x00" * 10000 + b"\xff" * 10000, f"got {describe(reply)}")


async def deflate_parameters(port):
    # Every parameter of RFC 7692 §7 offered at once: aster honours them all.
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True,
        server_max_window_bits=10, client_max_window_bits=9, compress_settings={"memLevel": 4})
    async with connect(port, extensions=[factory]) as ws:
        extension, answer = agreed_deflate(ws)
        expect(answer == "permessage-deflate; server_no_context_takeover; "
                         "client_no_context_takeover; server_max_window_bits=10; "
                         "client_max_window_bits=9", f"answer {answer!r}")
        expect(extension.remote_no_context_takeover and extension.local_no_context_takeover,
               f"context takeover: {extension}")
        sent = []
        compressed = record_rsv1(extension, sent)
        message = "no context takeover " * 200
        for _ in range(3):
            await echoes(ws, message)
        expect(all(compressed) and all(sent), f"RSV1 of the frames: {compressed}, {sent}")
        await echoes(ws, os.urandom(3000))  # incompressible: aster sends it as is
        expect(compressed[-1] is False, "incompressible data was sent compressed")


async def deflate_window_8_declined(port):
    # zlib cannot make an 8-bit raw deflate stream: that offer is declined, the next one taken.
    first = ClientPerMessageDeflateFactory(server_max_window_bits=8)
    second = ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=True)
    async with connect(port, extensions=[first, second]) as ws:
        extension, answer = agreed_deflate(ws)
        expect(answer == "permessage-deflate; server_max_window_bits=9; client_max_window_bits=12",
               f"answer {answer!r}")
        await echoes(ws, "window of nine bits " * 100)
    async with connect(port, extensions=[first]) as ws:
        accepted = ws.response_headers.get_all("Sec-WebSocket-Extensions")
        expect(accepted == [] and ws.extensions == [], f"accepted {accepted}")
        await echoes(ws, "uncompressed " * 100)


async def deflate_zip_bomb(port):
    # 32 MiB of zeros deflate to about 32 KiB: aster counts what it inflates against its 16 MiB
    # limit and closes with 1009 long before holding it all.
    async with connect(port, compression="deflate") as ws:
        agreed_deflate(ws)
        await echoes(ws, "below the limit " * 100)
        try:
            await ws.send(bytes(2 * ECHO_LIMIT))
            reply = await ws.recv()
            raise AssertionError(f"the server echoed {describe(reply)} over its limit")
        except websockets.exceptions.ConnectionClosed as closed:
            expect(closed.rcvd is not None, f"no close frame from the server: {closed}")
            expect(closed.rcvd.code == 1009, f"close code from the server: {closed.rcvd}")


CASES = [text_echo, binary_echo, fragmented_messages, ping_inside_fragmented_message, large_text,
         large_binary, length_boundaries, pipelined_messages, ping_pong, close_normal,
         close_custom_code, server_closes_on_oversized_message, handshake_bad_path,
         deflate_negotiated, deflate_fragments_and_pings, deflate_parameters,
         deflate_window_8_declined, deflate_zip_bomb]


async def run_cases(server):
    failed = []
    for case in CASES:
        name = case.__name__
        began = time.monotonic()
        try:
            await asyncio.wait_for(case(server.port), CASE_TIMEOUT)
        except asyncio.TimeoutError:
            failed.append(name)
            print(f"FAIL {name}: no result within {CASE_TIMEOUT:.0f} s", flush=True)
        except Exception as error:
            failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"ok   {name} ({time.monotonic() - began:.2f} s)", flush=True)
        if server.process.poll() is not None:
            failed.append("server")
            print(f"FAIL the server exited with status {server.process.returncode}", flush=True)
            break
    return failed


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/echo")
    print(f"websockets {websockets.__version__}, Python {sys.version.split()[0]}", flush=True)
    server = None
    try:
        server = Server(sys.argv[1])
        print(f"echo listening on 127.0.0.1:{server.port}", flush=True)
        failed = asyncio.run(run_cases(server))
    except Exception as error:
        failed = ["setup"]
        print(f"FAIL setup: {type(error).__name__}: {error}", flush=True)
    finally:
        if server is not None:
            server.stop()
    if failed:
        if server is not None and server.log:
            print("--- server log ---\n" + "\n".join(server.log[-40:]), flush=True)
        print(f"{len(failed)} failed: {', '.join(failed)}", flush=True)
        return 1
    print(f"all {len(CASES)} cases passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
