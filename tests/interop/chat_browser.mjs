// SPDX-License-Identifier: MIT
// Interop: two real browser pages (Debian's chromium, driven by playwright-core) talk through
// examples/chat over 127.0.0.1: joins are announced, permessage-deflate is agreed, a message
// typed in one page (short, or long enough to be compressed) shows in the other, a closed page is
// announced as gone.
//
//   node tests/interop/chat_browser.mjs build/cmake/chat [NODE_DIR]
//
// NODE_DIR (default: build/node, or $ASTER_NODE_DIR) holds playwright-core; tools/node_deps.sh
// puts it there when it is missing. If chromium cannot start, this says why and fails.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STEP_TIMEOUT = 10_000; // ms for each wait on a page
const TOTAL_TIMEOUT = 100_000; // ms for everything, below the test runners' 120 s
const CHROMIUM = process.env.ASTER_CHROMIUM || '/usr/bin/chromium';

const [chatBinary, nodeDirArgument] = process.argv.slice(2);
if (!chatBinary) {
    console.error('usage: node chat_browser.mjs PATH/TO/chat [NODE_DIR]');
    process.exit(2);
}
const nodeDir = path.resolve(nodeDirArgument || process.env.ASTER_NODE_DIR ||
                             path.join(root, 'build/node'));

let server = null;
let browser = null;
const pages = [];
const serverLog = [];

function stopServer() {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
}

async function shutdown(status) {
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    stopServer();
    if (status !== 0 && serverLog.length) {
        console.log('--- server log ---\n' + serverLog.slice(-40).join('\n'));
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

// Port 0: the kernel picks a free port and the server announces it on stderr.
function startServer() {
    return new Promise((resolve, reject) => {
        server = spawn(chatBinary, ['--host', '127.0.0.1', '--port', '0'],
                       { stdio: ['ignore', 'ignore', 'pipe'] });
        const timer = setTimeout(() => reject(new Error('the server did not announce its port')),
                                 STEP_TIMEOUT);
        server.on('error', (error) => { clearTimeout(timer); reject(error); });
        server.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`the server exited (status ${code}, signal ${signal})`));
        });
        createInterface({ input: server.stderr }).on('line', (line) => {
            serverLog.push(line);
            const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
            if (match) {
                clearTimeout(timer);
                resolve(Number(match[1]));
            }
        });
    });
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
    await page.goto(`http://127.0.0.1:${port}/?name=${encodeURIComponent(name)}`,
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

    let port;
    try {
        port = await startServer();
    } catch (error) {
        console.log(`FAIL setup: ${error.message}`);
        return 1;
    }
    console.log(`chat listening on 127.0.0.1:${port}`);

    let alice;
    let bob;
    await check('page served and its socket opens', async () => {
        alice = await openChat(port, 'alice');
        await shows(alice, '* alice joined');
    });
    await check('a second page joining is announced to both', async () => {
        bob = await openChat(port, 'bob');
        await shows(bob, '* bob joined');
        await shows(alice, '* bob joined');
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
