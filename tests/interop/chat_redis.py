#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Interop: two examples/chat processes made one chat by a Redis broker, driven by the Python
# `websockets` library over 127.0.0.1. It starts its own redis-server on a free loopback port and
# two chat processes with `--redis`, then checks that:
#   - joins, leaves and messages of a room cross between the processes both ways, and another
#     room's clients see none of them;
#   - with redis-server killed, each process still delivers to its own clients;
#   - once redis-server is back on the same port, the broker reconnects, subscribes again, and
#     messages cross again.
#
#   /usr/bin/python3 tests/interop/chat_redis.py build/cmake/chat
#
# The chat must be built with the broker (CMake -DASTER_REDIS=ON, meson -Dredis=enabled). Needs
# redis-server and Debian's python3-websockets; if either is missing this fails saying what to
# install. Every wait is bounded; every child is stopped by its pid whatever happens. Prints one
# line per step; on a failure, what each client received and the tail of each server's log.
import asyncio
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

try:
    import websockets
    import websockets.exceptions
except ImportError as error:
    sys.exit(f"chat_redis.py: the websockets library is missing ({error}); "
             "install python3-websockets and run this with /usr/bin/python3")

START_TIMEOUT = 10.0  # seconds for a process to listen (a chat to announce its port)
STEP_TIMEOUT = 5.0  # seconds for one expected message
# The broker's retry interval doubles up to 5 s, so reconnecting may take that long after
# redis-server is back; 20 s leaves room for a loaded machine.
RECONNECT_TIMEOUT = 20.0
POLL_INTERVAL = 0.2  # seconds between numbered messages while waiting for the broker
TOTAL_TIMEOUT = 50.0  # seconds for every step together, well below the runners' 120 s
CHANNEL_PREFIX = "aster:"  # redis_broker's default: topic "room:r1" is channel "aster:room:r1"


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    # Bound, read, released: the port is free now and the kernel does not hand it out again
    # soon. redis-server takes a port number, not a socket, so this is the best there is.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    """A process of ours: its output kept line by line for failure reports, stopped by pid.
    It joins `children` as soon as it runs, so that it is stopped even if it never gets ready."""

    def __init__(self, name, argv, children):
        self.name = name
        self.log = []
        self.lines = queue.Queue()
        # close_fds (the default, said anyway): a child holding a copy of a client's socket
        # would keep that connection open after the client closes it.
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, close_fds=True)
        self.pid = self.process.pid
        children.append(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.log.append(line.rstrip("\n"))
            self.lines.put(line)
        self.lines.put(None)

    def running(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL by pid, then reap; for redis-server, an outage with no goodbye."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        """SIGTERM by pid (a graceful shutdown), SIGKILL if it is not gone within 5 s."""
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                print(f"{self.name} did not stop within 5 s of SIGTERM: killed", flush=True)
        self.kill()

    def tail(self, count=30):
        return "\n".join(self.log[-count:]) or "(nothing)"


def redis_command(port, *words, timeout=1.0):
    """One command to redis-server in RESP. The reply: a simple string, error or integer as its
    line ("+PONG", ":2"), a bulk string as str, an array as a list (enough for PING and PUBSUB)."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request.encode())
        reader = s.makefile("rb")

        def line():
            text = reader.readline().decode().rstrip("\r\n")
            if not text:
                raise ConnectionError("redis-server closed the connection")
            return text

        def value():
            head = line()
            if head[0] == "$":
                return None if head == "$-1" else reader.read(int(head[1:]) + 2)[:-2].decode()
            if head[0] == "*":
                return [value() for _ in range(int(head[1:]))]
            return head  # +simple, -error, :integer
        return value()


class Redis(Child):
    def __init__(self, port, children):
        if shutil.which("redis-server") is None:
            raise Failure("redis-server is not on PATH: install redis-server "
                          "(./tools/install_deps.sh)")
        self.port = port
        super().__init__("redis-server",
                         ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--daemonize", "no",
                          "--loglevel", "warning"], children)
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # ready once it answers PING
            try:
                if redis_command(self.port, "PING") == "+PONG":
                    return
            except OSError:
                pass
            if not self.running():
                raise Failure(f"redis-server exited with status {self.process.returncode} "
                              f"(port {port} taken?):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise Failure(f"redis-server did not answer PING on port {port} within "
                              f"{START_TIMEOUT:.0f} s")
            time.sleep(0.02)

    def stop(self):
        self.kill()  # nothing to keep: no persistence, and nobody to say goodbye to

    def subscribers(self, topic):
        """How many connections (here: chat processes) subscribe to the topic's channel."""
        reply = redis_command(self.port, "PUBSUB", "NUMSUB", CHANNEL_PREFIX + topic)
        return int(reply[1][1:])


class Chat(Child):
    def __init__(self, name, binary, redis_port, children):
        # Port 0: the kernel picks a free port and the chat announces it, so no port can be
        # taken between choosing it and binding it.
        super().__init__(name, [binary, "--host", "127.0.0.1", "--port", "0",
                                "--redis", f"redis://127.0.0.1:{redis_port}"], children)
        deadline = time.monotonic() + START_TIMEOUT
        self.port = None
        while self.port is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"{name} did not announce its port within {START_TIMEOUT:.0f} s:\n"
                              f"{self.tail()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise Failure(f"{name} exited with status {self.process.wait()}:\n{self.tail()}")
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))


class Client:
    """One chat member: everything it receives is kept in order, read by a task of its own."""

    def __init__(self, name, chat, room):
        self.name, self.chat, self.room = name, chat, room
        self.received = []
        self.changed = asyncio.Event()
        self.ws = None
        self.reader = None

    def __str__(self):
        return f"{self.name} (on {self.chat.name}, room {self.room})"

    async def join(self):
        url = f"ws://127.0.0.1:{self.chat.port}/ws/{self.room}?name={self.name}"
        self.ws = await websockets.connect(url, open_timeout=STEP_TIMEOUT, close_timeout=2,
                                           ping_interval=None, compression=None)
        self.reader = asyncio.create_task(self._read())
        await self.receives(f"* {self.name} joined")

    async def _read(self):
        try:
            async for message in self.ws:
                self.received.append(message)
                self.changed.set()
        except websockets.exceptions.ConnectionClosed:
            pass
        self.changed.set()

    async def say(self, text):
        await self.ws.send(text)

    async def wait_until(self, found, timeout, what):
        """Waits until found(received) is true; fails after `timeout` seconds saying `what`."""
        deadline = time.monotonic() + timeout
        while not found(self.received):
            left = deadline - time.monotonic()
            if left <= 0 or self.reader.done():
                why = "its connection closed" if self.reader.done() else f"{timeout:.1f} s passed"
                raise Failure(f"{self} did not receive {what}: {why}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def receives(self, line, timeout=STEP_TIMEOUT):
        await self.wait_until(lambda got: line in got, timeout, repr(line))

    async def leave(self):
        if self.ws is not None:
            await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)


async def step(name, body):
    began = time.monotonic()
    await body()
    print(f"ok   {name} ({time.monotonic() - began:.2f} s)", flush=True)


async def wait_subscribed(redis, topic, count):
    # A message published before the other process's SUBSCRIBE reached Redis is lost to it
    # (at most once), so the test waits for Redis to count both subscriptions.
    deadline = time.monotonic() + STEP_TIMEOUT
    while (seen := redis.subscribers(topic)) != count:
        if time.monotonic() > deadline:
            raise Failure(f"Redis counts {seen} subscribers of {CHANNEL_PREFIX}{topic}, "
                          f"expected {count}, after {STEP_TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)


async def wait_for_log(child, start, text):
    """Waits until a line of the child's log after the first `start` lines contains `text`."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while not any(text in line for line in child.log[start:]):
        if time.monotonic() > deadline:
            raise Failure(f"{child.name} did not log {text!r} within {STEP_TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)


async def poll_until_crossing(sender, receiver, label):
    """Sends "label N" every POLL_INTERVAL until one of them reaches the receiver; returns the
    number sent and the time taken. Fails after RECONNECT_TIMEOUT."""
    prefix = f"{sender.name}: {label} "
    began = time.monotonic()
    sent = 0

    def arrived(got):
        return any(line.startswith(prefix) for line in got)
    while not arrived(receiver.received):
        if time.monotonic() - began > RECONNECT_TIMEOUT:
            raise Failure(f"none of {sent} messages from {sender} reached {receiver} within "
                          f"{RECONNECT_TIMEOUT:.0f} s of redis-server's restart")
        sent += 1
        await sender.say(f"{label} {sent}")
        try:
            await receiver.wait_until(arrived, POLL_INTERVAL, "a polling message")
        except Failure:
            if receiver.reader.done():
                raise
    return sent, time.monotonic() - began


def no_line_from(client, names):
    # Everything a chat sends names its author: "NAME: text", "* NAME joined", "* NAME left".
    leaked = [line for line in client.received
              if any(line.startswith((f"{n}: ", f"* {n} ")) for n in names)]
    expect(not leaked, f"{client} received another room's lines: {leaked}")


async def scenario(binary, children):
    redis_port = free_port()
    redis = Redis(redis_port, children)
    a = Chat("chat A", binary, redis_port, children)
    b = Chat("chat B", binary, redis_port, children)
    print(f"redis-server on 127.0.0.1:{redis_port} (pid {redis.pid}), chat A on "
          f"127.0.0.1:{a.port} (pid {a.pid}), chat B on 127.0.0.1:{b.port} (pid {b.pid})",
          flush=True)

    # Room r1 has members on both processes, room r2 too; r1 and r2 must never mix.
    alice, erin, dave = Client("alice", a, "r1"), Client("erin", a, "r1"), Client("dave", a, "r2")
    bob, finn, carol = Client("bob", b, "r1"), Client("finn", b, "r1"), Client("carol", b, "r2")
    clients = [alice, erin, dave, bob, finn, carol]
    r1_names = [c.name for c in clients if c.room == "r1"]
    r2_names = [c.name for c in clients if c.room == "r2"]
    try:
        async def joins_cross():
            await alice.join()
            await wait_subscribed(redis, "room:r1", 1)
            await bob.join()
            await alice.receives("* bob joined")  # B to A
            await wait_subscribed(redis, "room:r1", 2)
            await erin.join()
            await bob.receives("* erin joined")  # A to B
            await finn.join()
            await alice.receives("* finn joined")
            await erin.receives("* finn joined")
            await carol.join()
            await wait_subscribed(redis, "room:r2", 1)
            await dave.join()
            await carol.receives("* dave joined")  # A to B, in the other room
        await step("joins are announced across the two processes", joins_cross)

        async def messages_cross():
            await alice.say("hello from A")
            for member in (alice, erin, bob, finn):  # the sender included
                await member.receives("alice: hello from A")
            await finn.say("hello from B")
            for member in (alice, erin, bob, finn):
                await member.receives("finn: hello from B")
            await carol.say("hello r2 from B")
            await dave.receives("carol: hello r2 from B")
        await step("messages cross both ways, to the sender too", messages_cross)

        async def rooms_apart():
            # Once bob has alice's line, B has read it from Redis; dave's marker comes after it
            # on B's subscriber connection, and B hands both to its loops in that order. So once
            # carol has the marker, an r1 line leaking to her would be there already.
            await alice.say("before the r2 marker")
            await bob.receives("alice: before the r2 marker")
            await dave.say("r2 marker")
            await carol.receives("dave: r2 marker")
            no_line_from(carol, r1_names)
            no_line_from(dave, r1_names)
            for member in (alice, erin, bob, finn):
                no_line_from(member, r2_names)
        await step("room r2 receives nothing of room r1, nor r1 of r2", rooms_apart)

        logged = {chat: len(chat.log) for chat in (a, b)}
        redis.kill()
        print(f"redis-server killed (SIGKILL, pid {redis.pid})", flush=True)

        async def local_during_outage():
            # Each broker has seen the outage (a reconnection failed) before local delivery is
            # checked, and before redis-server comes back: the restart is a reconnection then,
            # not a race with the old connection's end.
            for chat in (a, b):
                await wait_for_log(chat, logged[chat],
                                   f"redis: cannot reach 127.0.0.1:{redis_port}, retrying")
            await alice.say("A while Redis is down")
            await alice.receives("alice: A while Redis is down")
            await erin.receives("alice: A while Redis is down")
            await bob.say("B while Redis is down")
            await bob.receives("bob: B while Redis is down")
            await finn.receives("bob: B while Redis is down")
            await dave.say("r2 on A while Redis is down")
            await dave.receives("dave: r2 on A while Redis is down")
            for chat in (a, b):
                expect(chat.running(), f"{chat.name} exited ({chat.process.returncode}) when "
                                       "redis-server went away")
        await step("each process delivers to its own clients while Redis is down",
                   local_during_outage)

        restarted = Redis(redis_port, children)
        print(f"redis-server restarted on 127.0.0.1:{redis_port} (pid {restarted.pid})",
              flush=True)

        async def reconnected():
            sent, took = await poll_until_crossing(alice, bob, "poll A to B")
            print(f"     A to B again after {took:.2f} s ({sent} sent)", flush=True)
            sent, took = await poll_until_crossing(bob, alice, "poll B to A")
            print(f"     B to A again after {took:.2f} s ({sent} sent)", flush=True)
            # Both processes subscribed again: one message each way, no polling.
            await erin.say("A after the restart")
            await finn.receives("erin: A after the restart")
            await finn.say("B after the restart")
            await erin.receives("finn: B after the restart")
            await wait_subscribed(restarted, "room:r2", 2)
            await carol.say("r2 from B after the restart")
            await dave.receives("carol: r2 from B after the restart")
            expect(restarted.subscribers("room:r1") == 2,
                   f"Redis counts {restarted.subscribers('room:r1')} subscribers of room:r1")
        await step("messages cross again once the broker has reconnected", reconnected)

        async def leave_crosses():
            await erin.leave()
            await bob.receives("* erin left")
            await finn.leave()
            await alice.receives("* finn left")
            for member in (carol, dave):
                no_line_from(member, r1_names)
            for member in (alice, bob):
                no_line_from(member, r2_names)
        await step("leaves are announced across after the restart", leave_crosses)
    except BaseException:
        for client in clients:
            print(f"--- {client} received ---\n" + "\n".join(client.received), flush=True)
        raise
    finally:
        # A client that cannot close cleanly is not what this test is about: bounded, ignored.
        await asyncio.wait([asyncio.create_task(c.leave()) for c in clients], timeout=5)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/chat")
    print(f"websockets {websockets.__version__}, Python {sys.version.split()[0]}", flush=True)
    children = []
    status = 1
    try:
        asyncio.run(asyncio.wait_for(scenario(sys.argv[1], children), TOTAL_TIMEOUT))
        status = 0
    except asyncio.TimeoutError:
        print(f"FAIL: not finished within {TOTAL_TIMEOUT:.0f} s", flush=True)
    except Exception as error:
        print(f"FAIL: {type(error).__name__}: {error}", flush=True)
    finally:
        for child in reversed(children):
            child.stop()
    if status != 0:
        for child in children:
            print(f"--- {child.name} (pid {child.pid}) log ---\n{child.tail()}", flush=True)
        return status
    print("all steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
