// SPDX-License-Identifier: MIT
// Interop: two real browser pages (Debian's chromium, driven by playwright-core) talk through
// examples/chat over 127.0.0.1: joins are announced, permessage-deflate is agreed, a message
// typed in one page (short, or long enough to be compressed) shows in the other, a closed page is
// announced as gone.
//
//   node tests/interop/chat_browser.mjs build/cmake/chat [NODE_DIR]
//   node tests/interop/chat_browser.mjs --redis build/cmake/chat [NODE_DIR]
//
// With --redis the same cases run across two chat processes: this starts its own redis-server on
// a free loopback port and two chats with `--redis`, and opens each page on a different process,
// so every join, message and leave the other page sees has gone through Redis. That needs a chat
// built with the broker (CMake -DASTER_REDIS=ON, meson -Dredis=enabled) and redis-server.
//
// NODE_DIR (default: build/node, or $ASTER_NODE_DIR) holds playwright-core; tools/node_deps.sh
// puts it there when it is missing. If chromium cannot start, this says why and fails. Every
// process this starts is stopped by its pid, whatever happens.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STEP_TIMEOUT = 10_000; // ms for each wait on a page
const TOTAL_TIMEOUT = 100_000; // ms for everything, below the test runners' 120 s
const CHROMIUM = process.env.ASTER_CHROMIUM || '/usr/bin/chromium';

const argv = process.argv.slice(2);
const acrossRedis = argv[0] === '--redis';
if (acrossRedis) argv.shift();
const [chatBinary, nodeDirArgument] = argv;
if (!chatBinary) {
    console.error('usage: node chat_browser.mjs [--redis] PATH/TO/chat [NODE_DIR]');
    process.exit(2);
}
const nodeDir = path.resolve(nodeDirArgument || process.env.ASTER_NODE_DIR ||
                             path.join(root, 'build/node'));
// With --redis, a room of its own: topic "room:across" is the Redis channel "aster:room:across"
// (redis_broker's default prefix). Without, the page's default room.
const ROOM = 'across';
const CHANNEL = `aster:room:${ROOM}`;

let browser = null;
const pages = [];
const children = []; // { name, child, log, signal }: the chats and redis-server, in start order

function running(child) {
    return child.exitCode === null && child.signalCode === null;
}

// By pid: the chats get SIGTERM (a graceful shutdown) and SIGKILL if still there after 5 s;
// redis-server gets SIGKILL at once (nothing to keep).
async function stopChildren() {
    await Promise.all(children.map(({ child, signal }) => new Promise((resolve) => {
        if (child.pid === undefined || !running(child)) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('exit', () => { clearTimeout(timer); resolve(); });
        child.kill(signal);
    })));
}
// The last word if this process ends some other way: no child outlives it.
process.on('exit', () => {
    for (const { child } of children) {
        if (child.pid !== undefined && running(child)) child.kill('SIGKILL');
    }
});

async function shutdown(status) {
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    await stopChildren();
    if (status !== 0) {
        for (const { name, child, log } of children) {
            if (!log.length) continue;
            console.log(`--- ${name} (pid ${child.pid}) log ---\n` + log.slice(-40).join('\n'));
        }
    }
    process.exit(status);
}

const watchdog = setTimeout(() => {
    console.log(`FAIL: not finished within ${TOTAL_TIMEOUT / 1000} s`);
    shutdown(1);
}, TOTAL_TIMEOUT);

function loadPlaywright() {
    // The committed lock file pins the version; node_deps.sh installs it once per NODE_DIR.
    execFileSync('bash', [path.join(root, 'tools/node_deps.sh'), nodeDir], { stdio: 'inherit' });
    const require = createRequire(path.join(nodeDir, 'package.json'));
    return require('playwright-core');
}

// Starts a child whose output is kept for failure reports; it is stopped by shutdown().
function startChild(name, command, args, signal) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { name, child, log: [], signal };
    children.push(entry);
    for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => entry.log.push(line));
    }
    return entry;
}

// Port 0: the kernel picks a free port and the server announces it on stderr.
function startServer(name = 'server', extraArgs = []) {
    return new Promise((resolve, reject) => {
        const { child: server } = startChild(
            name, chatBinary, ['--host', '127.0.0.1', '--port', '0', ...extraArgs], 'SIGTERM');
        const timer = setTimeout(() => reject(new Error(`the ${name} did not announce its port`)),
                                 STEP_TIMEOUT);
        server.on('error', (error) => { clearTimeout(timer); reject(error); });
        server.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`the ${name} exited (status ${code}, signal ${signal})`));
        });
        createInterface({ input: server.stderr }).on('line', (line) => {
            const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
            if (match) {
                clearTimeout(timer);
                resolve(Number(match[1]));
            }
        });
    });
}

// A port that was free a moment ago: redis-server takes a number, not a socket.
function freePort() {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.on('error', reject);
        probe.listen(0, '127.0.0.1', () => {
            const { port } = probe.address();
            probe.close(() => resolve(port));
        });
    });
}

// One command to redis-server; resolves with the raw reply once `complete(reply)` says it is all
// there.
function redisCommand(port, words, complete) {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        let reply = '';
        socket.setTimeout(1000, () => socket.destroy(new Error('no reply from redis-server')));
        socket.on('error', reject);
        socket.on('connect', () => {
            socket.write(`*${words.length}\r\n` +
                         words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join(''));
        });
        socket.on('data', (data) => {
            reply += data.toString();
            if (complete(reply)) {
                socket.destroy();
                resolve(reply);
            }
        });
        socket.on('close', () => {
            reject(new Error(`redis-server closed the connection after ${JSON.stringify(reply)}`));
        });
    });
}

async function startRedis(port) {
    const { child } = startChild('redis-server', 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
         '--daemonize', 'no', '--loglevel', 'warning'], 'SIGKILL');
    const failed = new Promise((resolve, reject) => {
        child.on('error', (error) => reject(error.code === 'ENOENT'
            ? new Error('redis-server is missing: install redis-server (./tools/install_deps.sh)')
            : error));
        child.on('exit', (code, signal) => reject(new Error(
            `redis-server exited (status ${code}, signal ${signal}; port ${port} taken?)`)));
    });
    failed.catch(() => {}); // looked at below, while waiting
    // Ready once it answers PING.
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
        const ping = redisCommand(port, ['PING'], (r) => r.endsWith('\r\n'))
            .then((r) => r.startsWith('+PONG'), () => false);
        if (await Promise.race([ping, failed])) return;
        if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

// Until Redis counts `count` connections (chat processes) subscribed to the room: a message
// published before the other process's SUBSCRIBE reached Redis would be lost to it (at most
// once), so a page on the other process would wait for it in vain.
async function subscribed(redisPort, count) {
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
        const reply = await redisCommand(redisPort, ['PUBSUB', 'NUMSUB', CHANNEL],
                                         (r) => /:\d+\r\n$/.test(r));
        const seen = Number(/:(\d+)\r\n$/.exec(reply)[1]);
        if (seen === count) return;
        if (Date.now() > deadline) {
            throw new Error(`Redis counts ${seen} subscribers of ${CHANNEL}, expected ${count}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

let failures = 0;
async function check(name, body) {
    const began = Date.now();
    try {
        await body();
        console.log(`ok   ${name} (${((Date.now() - began) / 1000).toFixed(2)} s)`);
    } catch (error) {
        failures += 1;
        console.log(`FAIL ${name}: ${error.message.split('\n')[0]}`);
    }
}

// Waits until the page's log list holds exactly this line.
function shows(page, line) {
    return page.locator('#log li').getByText(line, { exact: true }).first()
        .waitFor({ timeout: STEP_TIMEOUT });
}

async function openChat(port, name) {
    const room = acrossRedis ? `room=${ROOM}&` : '';
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
        // The page has no icon; the browser's request for one is answered 404, as it should be.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) {
            errors.push(message.text());
        }
    });
    pages.push({ name, errors });
    await page.goto(`http://127.0.0.1:${port}/?${room}name=${encodeURIComponent(name)}`,
                    { timeout: STEP_TIMEOUT });
    await page.locator('body[data-connected="yes"]').waitFor({ timeout: STEP_TIMEOUT });
    return page;
}

async function main() {
    let playwright;
    try {
        playwright = loadPlaywright();
    } catch (error) {
        console.log(`FAIL setup: playwright-core is not usable from ${nodeDir}: ${error.message}`);
        return 1;
    }
    if (!existsSync(CHROMIUM)) {
        console.log(`FAIL setup: ${CHROMIUM} does not exist (Debian: apt-get install chromium)`);
        return 1;
    }
    try {
        // --no-sandbox: the sandbox cannot start as root or inside most containers.
        browser = await playwright.chromium.launch({
            executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    } catch (error) {
        console.log(`FAIL setup: chromium did not start: ${error.message}`);
        return 1;
    }
    console.log(`playwright-core ${playwrightVersion(nodeDir)}, chromium ${browser.version()}`);

    // alice's page on one process, bob's on the other (with --redis), or both on one.
    let alicePort;
    let bobPort;
    let redisPort = null;
    try {
        if (acrossRedis) {
            redisPort = await freePort();
            await startRedis(redisPort);
            const redis = ['--redis', `redis://127.0.0.1:${redisPort}`];
            alicePort = await startServer('chat A', redis);
            bobPort = await startServer('chat B', redis);
            console.log(`redis-server on 127.0.0.1:${redisPort}; chat A on 127.0.0.1:` +
                        `${alicePort} (alice), chat B on 127.0.0.1:${bobPort} (bob), room ${ROOM}`);
        } else {
            alicePort = bobPort = await startServer();
            console.log(`chat listening on 127.0.0.1:${alicePort}`);
        }
    } catch (error) {
        console.log(`FAIL setup: ${error.message}`);
        return 1;
    }

    let alice;
    let bob;
    await check('page served and its socket opens', async () => {
        alice = await openChat(alicePort, 'alice');
        await shows(alice, '* alice joined');
        if (acrossRedis) await subscribed(redisPort, 1);
    });
    await check('a second page joining is announced to both', async () => {
        bob = await openChat(bobPort, 'bob');
        await shows(bob, '* bob joined');
        await shows(alice, '* bob joined');
        if (acrossRedis) await subscribed(redisPort, 2);
    });
    await check('a message typed in one page shows in the other', async () => {
        await alice.locator('#text').fill('hello from alice');
        await alice.locator('#send').click();
        await shows(bob, 'alice: hello from alice');
        await shows(alice, 'alice: hello from alice');
        const left = await alice.locator('#text').inputValue();
        if (left !== '') throw new Error(`the input still holds ${JSON.stringify(left)}`);
    });
    await check('the browser and aster agreed on permessage-deflate', async () => {
        // Chromium offers "permessage-deflate; client_max_window_bits"; aster answers with its
        // 12-bit windows, and the page sees the answer in WebSocket.extensions.
        const expected = 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12';
        for (const page of [alice, bob]) {
            const agreed = await page.evaluate('socket.extensions');
            if (agreed !== expected) throw new Error(`extensions ${JSON.stringify(agreed)}`);
        }
    });
    await check('long compressed messages arrive intact both ways', async () => {
        // Above aster's 64-byte threshold, so the server compresses what it broadcasts (and
        // Chromium compresses what it sends); each page must show the other's text exactly.
        const long = (who) => `${who} ` + 'the quick brown fox ✓ jumps over the lazy dog 🌍 '.repeat(40);
        await alice.locator('#text').fill(long('alice'));
        await alice.locator('#send').click();
        await shows(bob, `alice: ${long('alice')}`);
        await bob.locator('#text').fill(long('bob'));
        await bob.locator('#send').click();
        await shows(alice, `bob: ${long('bob')}`);
    });
    await check('Enter sends, and non-ASCII text arrives intact', async () => {
        await bob.locator('#text').fill('héllo ✓ 🌍');
        await bob.locator('#text').press('Enter');
        await shows(alice, 'bob: héllo ✓ 🌍');
    });
    await check('a closed page is announced as gone', async () => {
        await bob.close();
        bob = null;
        await shows(alice, '* bob left');
    });
    await check('no script errors in the pages', async () => {
        const errors = pages.flatMap((page) => page.errors.map((text) => `${page.name}: ${text}`));
        if (errors.length) throw new Error(errors.join('; '));
    });
    return failures ? 1 : 0;
}

function playwrightVersion(dir) {
    return createRequire(path.join(dir, 'package.json'))('playwright-core/package.json').version;
}

let status = 1;
try {
    status = await main();
} catch (error) {
    console.log(`FAIL: ${error.stack || error}`);
}
if (status === 0) console.log('all cases passed');
else if (failures) console.log(`${failures} failed`);
await shutdown(status);
