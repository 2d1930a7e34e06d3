#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Interop over TLS: examples/echo serving https and wss (--tls-cert, --tls-key) against Python's
# ssl module and the `websockets` library, which share no code with aster, on 127.0.0.1.
#
#   /usr/bin/python3 tests/interop/wss_python.py build/cmake/echo
#
# Makes a self-signed certificate for IP 127.0.0.1 with the `openssl` command, which every client
# here trusts and verifies. Needs Debian's python3-websockets and openssl. Prints one line per
# case and exits non-zero if any fails; the server is always stopped, and must exit cleanly.
import asyncio
import http.client
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

try:
    import websockets
    import websockets.exceptions
except ImportError as error:
    sys.exit(f"wss_python.py: the websockets library is missing ({error}); "
             "install python3-websockets and run this with /usr/bin/python3")

CASE_TIMEOUT = 30.0   # seconds per case
START_TIMEOUT = 10.0  # seconds for the server to announce its port
STOP_TIMEOUT = 10.0   # seconds for a graceful stop after SIGTERM
MIB = 1 << 20


def make_certificate(directory):
    """A P-256 key and a self-signed certificate naming IP 127.0.0.1; returns (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is missing: install openssl")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)
    return cert, key


class Server:
    """The echo example over TLS on a port the kernel picks; its log is kept for reports."""

    def __init__(self, binary, cert, key):
        self.process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--tls-cert", cert, "--tls-key", key],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.lines = queue.Queue()
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
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"no port announced within {START_TIMEOUT:.0f} s") from None
            if line is None:
                raise RuntimeError(f"the server exited with status {self.process.wait()}")
            match = re.search(r"listening on https://127\.0\.0\.1:(\d+)", line)
            if match:
                return int(match.group(1))

    def stop(self):
        """SIGTERM, as a service manager would; returns the exit status (None: had to kill)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def trusting(cert):
    """A client context that trusts only the test certificate and checks the name (the IP)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cert)
    expect(context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED, "not verifying")
    return context


def connect(port, context):
    return websockets.connect(f"wss://127.0.0.1:{port}/ws", ssl=context, open_timeout=10,
                              close_timeout=5, ping_interval=None, compression=None,
                              max_size=4 * MIB)


async def echoes(ws, message):
    await ws.send(message)
    reply = await ws.recv()
    sent, got = type(message).__name__, type(reply).__name__
    expect(sent == got, f"sent {sent}, got {got}")
    expect(reply == message, f"echo differs for a {type(message).__name__} of {len(message)}")


# --- the cases ------------------------------------------------------------------------------

async def wss_text(port, cert):
    async with connect(port, trusting(cert)) as ws:
        await echoes(ws, "hello over wss")
        await echoes(ws, "héllo ✓ \U0001f30d")  # 2-, 3- and 4-byte UTF-8
        await ws.close(1000, "done")
        expect(ws.close_code == 1000, f"close code seen by the client: {ws.close_code}")


async def wss_binary(port, cert):
    async with connect(port, trusting(cert)) as ws:
        await echoes(ws, bytes(range(256)))
        # Larger than a TLS record (16 KiB): the message spans many records both ways.
        await echoes(ws, os.urandom(MIB))


async def https_keep_alive(port, cert):
    def fetch_twice():
        # http.client keeps one connection for both requests when the server allows it.
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=trusting(cert),
                                                 timeout=10)
        bodies = []
        for _ in range(2):
            connection.request("GET", "/hello")
            response = connection.getresponse()
            expect(response.status == 200, f"status {response.status}")
            bodies.append(response.read())
            expect(not response.will_close, "the server closed a keep-alive connection")
        connection.close()
        return bodies

    bodies = await asyncio.get_running_loop().run_in_executor(None, fetch_twice)
    expect(bodies == [b"Hello, World!"] * 2, f"bodies: {bodies}")


async def untrusting_client_fails_then_server_serves(port, cert):
    # A client that does not trust the certificate gives up in the handshake ...
    try:
        async with connect(port, ssl.create_default_context()):
            raise AssertionError("a client without the certificate connected")
    except ssl.SSLCertVerificationError:
        pass
    # ... and so does one speaking plain HTTP to the TLS port; neither stops the server.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    expect(b"HTTP/1.1" not in reply, f"plain HTTP was answered: {reply[:60]!r}")
    async with connect(port, trusting(cert)) as ws:
        await echoes(ws, "still serving")


def urlopen_hello(port, cert):
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/hello", context=trusting(cert),
                                timeout=10) as response:
        return response.read()


async def https_urllib(port, cert):
    body = await asyncio.get_running_loop().run_in_executor(None, urlopen_hello, port, cert)
    expect(body == b"Hello, World!", f"body: {body!r}")


CASES = [wss_text, wss_binary, https_keep_alive, https_urllib,
         untrusting_client_fails_then_server_serves]


async def run_cases(server, cert):
    failed = []
    for case in CASES:
        began = time.monotonic()
        try:
            await asyncio.wait_for(case(server.port, cert), CASE_TIMEOUT)
        except asyncio.TimeoutError:
            failed.append(case.__name__)
            print(f"FAIL {case.__name__}: no result within {CASE_TIMEOUT:.0f} s", flush=True)
        except Exception as error:
            failed.append(case.__name__)
            print(f"FAIL {case.__name__}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"ok   {case.__name__} ({time.monotonic() - began:.2f} s)", flush=True)
        if server.process.poll() is not None:
            failed.append("server")
            print(f"FAIL the server exited with status {server.process.returncode}", flush=True)
            break
    return failed


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/echo")
    print(f"websockets {websockets.__version__}, {ssl.OPENSSL_VERSION}, "
          f"Python {sys.version.split()[0]}", flush=True)
    server = None
    with tempfile.TemporaryDirectory(prefix="aster-wss-") as directory:
        try:
            cert, key = make_certificate(directory)
            server = Server(sys.argv[1], cert, key)
            print(f"echo listening on https://127.0.0.1:{server.port}", flush=True)
            failed = asyncio.run(run_cases(server, cert))
        except Exception as error:
            failed = ["setup"]
            print(f"FAIL setup: {type(error).__name__}: {error}", flush=True)
        finally:
            status = server.stop() if server is not None else 0
        if status != 0:
            failed.append("stop")
            print(f"FAIL the server did not stop cleanly on SIGTERM (status {status})", flush=True)
    if failed:
        if server is not None and server.log:
            print("--- server log ---\n" + "\n".join(server.log[-40:]), flush=True)
        print(f"{len(failed)} failed: {', '.join(failed)}", flush=True)
        return 1
    print(f"all {len(CASES)} cases passed, and a graceful stop", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
