#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Interop: examples/echo's /metrics read by Prometheus' own Python client parser, after requests
# and a WebSocket session over 127.0.0.1 with two event loops.
#
#   /usr/bin/python3 tests/interop/metrics_prometheus.py build/cmake/echo
#
# Needs Debian's python3-prometheus-client (and python3-websockets). Exits non-zero, saying
# why, when the output does not parse or a count is wrong. The server is always stopped.
import asyncio
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
    import websockets
except ImportError as error:
    sys.exit(f"metrics_prometheus.py: {error}; install python3-prometheus-client and "
             "python3-websockets, and run this with /usr/bin/python3")


def start(binary):
    process = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()

    def read_log():
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=read_log, daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return process, int(match.group(1))
    process.kill()
    sys.exit("metrics_prometheus.py: the server did not announce its port")


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


async def session(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws:
        for text in ("one", "two", "three"):
            await ws.send(text)
            assert await asyncio.wait_for(ws.recv(), 10) == text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: metrics_prometheus.py ECHO_BINARY")
    process, port = start(sys.argv[1])
    try:
        for _ in range(7):
            assert get(port, "/hello")[0] == 200
        try:
            get(port, "/nowhere")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        asyncio.run(session(port))
        # The server counts the session once its close handshake is done on its side, which
        # may come just after the client's: scrape until it shows (bounded).
        for attempt in range(50):
            status, content_type, text = get(port, "/metrics")
            assert status == 200, status
            assert content_type == "text/plain; version=0.0.4; charset=utf-8", content_type
            samples = {}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
            if samples.get(("aster_websocket_sessions_total", (("route", "/ws"),))):
                break
            time.sleep(0.05)

        def value(name, **labels):
            return samples.get((name, tuple(sorted(labels.items()))))

        checks = [
            (value("aster_http_requests_total", route="/hello", method="GET", status="200"), 7),
            (value("aster_http_requests_total", route="<unmatched>", method="GET", status="404"), 1),
            (value("aster_http_request_duration_seconds_count", route="/hello"), 7),
            (value("aster_http_request_duration_seconds_bucket", route="/hello", le="+Inf"), 7),
            (value("aster_websocket_sessions_total", route="/ws"), 1),
            (value("aster_websocket_messages_received_total", route="/ws"), 3),
            (value("aster_websocket_messages_sent_total", route="/ws"), 3),
            (value("aster_websocket_closes_total", route="/ws", code="1000"), 1),
        ]
        failed = [(i, got, want) for i, (got, want) in enumerate(checks) if got != want]
        if value("aster_connections") is None or value("aster_websockets") != 0:
            failed.append(("gauges", value("aster_connections"), value("aster_websockets")))
        if failed:
            print(text)
            sys.exit(f"metrics_prometheus.py: wrong values (check, got, wanted): {failed}")
        print(f"metrics_prometheus.py: {len(samples)} samples parsed by prometheus_client, "
              "every count right")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
