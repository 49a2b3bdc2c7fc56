// The demo app in a real browser (Debian's chromium, driven by playwright-core): two users see
// each other online, typing, messages, a private notification, and leaving.
// Once over shared memory (the default, no Redis) and once over Redis.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root, freePort, within } from '../lib/harness.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const output = join(root, 'e2e', 'output');

for (const mode of ['shm', 'redis']) {
  describe(`demo over ${mode === 'shm' ? 'shared memory' : 'Redis'}`, () => {
    let demo;
    let browser;
    let base;

    before(async () => {
      const webPort = await freePort();
      const echoPort = await freePort();
      base = `http://127.0.0.1:${webPort}`;
      const env = { ...process.env, DEMO_PORT: String(webPort), ECHO_PORT: String(echoPort), REDIS: mode === 'redis' ? '1' : '0' };
      demo = spawn(join(root, 'scripts', 'demo.sh'), [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      await within(30000, 'the demo to start', (done) => {
        const on = (d) => {
          out += d;
          if (out.includes('Ctrl-C stops everything')) done();
        };
        demo.stdout.on('data', on);
        demo.stderr.on('data', on);
      });
      assert.match(out, mode === 'shm' ? /shared memory, no Redis/ : /Redis on 127\.0\.0\.1:\d+/);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
    });

    after(async () => {
      await browser?.close();
      if (demo && demo.exitCode === null) {
        const exited = new Promise((r) => demo.on('exit', r));
        demo.kill('SIGTERM');
        await exited;
      }
    });

    async function signIn(context, name) {
      const page = await context.newPage();
      await page.goto(base);
      await page.fill('#name', name);
      await page.click('#login');
      await page.waitForURL('**/chat');
      await page.waitForSelector('body[data-connected="true"]', { timeout: 10000 });
      return page;
    }

    it('shows presence, typing, messages, notifications and leaving', async () => {
      const alice = await signIn(await browser.newContext(), 'alice');
      const bobContext = await browser.newContext();
      const bob = await signIn(bobContext, 'bob');

      // The first presence subscription boots the demo app's auth route on a cold worker.
      await alice.waitForSelector('#online li[data-user="bob"]', { timeout: 15000 });
      await bob.waitForSelector('#online li[data-user="alice"]', { timeout: 15000 });
      assert.deepEqual(await alice.$$eval('#online li', (lis) => lis.map((li) => li.textContent).sort()), ['alice', 'bob']);

      await bob.type('#text', 'hello al');
      await alice.waitForFunction(() => document.querySelector('#typing').textContent === 'bob is typing…', null, { timeout: 5000 });

      await bob.fill('#text', 'hello alice');
      await bob.press('#text', 'Enter');
      await alice.waitForSelector('#messages li[data-user="bob"]', { timeout: 5000 });
      assert.equal(await alice.textContent('#messages li[data-user="bob"]'), 'bob: hello alice');

      await alice.fill('#poke-name', 'bob');
      await alice.press('#poke-name', 'Enter');
      await bob.waitForSelector('#notifications li', { timeout: 5000 });
      assert.equal(await bob.textContent('#notifications li'), 'alice poked you');
      assert.equal(await alice.$$eval('#notifications li', (lis) => lis.length), 0, 'private to bob');

      mkdirSync(output, { recursive: true });
      await alice.screenshot({ path: join(output, `demo-${mode}.png`), fullPage: true });

      await bobContext.close();
      await alice.waitForSelector('#online li[data-user="bob"]', { state: 'detached', timeout: 5000 });
      assert.deepEqual(await alice.$$eval('#presence-log li', (lis) => lis.map((li) => li.textContent)), ['bob joined', 'bob left']);
    });
  });
}
