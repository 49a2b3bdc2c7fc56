// The same scripted Pusher session (lib/session.mjs) against Laravel Reverb (`php artisan
// reverb:start` in the Laravel 11 test app) and against rust-echo; their observations must be
// equal except for the documented differences listed here (docs/pusher.md, ADR 0010). Frames
// are compared as JSON (a `data` string holding JSON parsed too): key order and PHP's `\/`
// escaping are not compared, as no Pusher client depends on them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root, freePort, startServer, until } from '../lib/harness.mjs';
import { app, session } from '../lib/session.mjs';

const laravel = join(root, '.build', 'laravel11-app');

/** Documented differences: step → [what Reverb observes, what rust-echo observes]. */
const documented = new Map([
  // Pusher refuses a request signed more than 600 s away from its clock; Reverb does not check.
  ['stale timestamp', [
    { status: 200, body: {} },
    { status: 401, body: 'Timestamp expired: Given timestamp is not within 600s of server time' },
  ]],
]);

async function startReverb() {
  const port = await freePort();
  const env = {
    ...process.env,
    REVERB_APP_ID: app.id,
    REVERB_APP_KEY: app.key,
    REVERB_APP_SECRET: app.secret,
    BROADCAST_CONNECTION: 'reverb',
  };
  const child = spawn('php', ['artisan', 'reverb:start', '--host=127.0.0.1', `--port=${port}`], { cwd: laravel, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`reverb:start exited: ${out}`);
    try {
      await fetch(`http://127.0.0.1:${port}/up`);
      return true;
    } catch {
      return false;
    }
  }, 'reverb:start to listen', 20000);
  return { port, stop: () => child.kill('SIGTERM'), output: () => out };
}

describe('the same Pusher session against Reverb and rust-echo', () => {
  const ctx = {};
  before(async () => {
    if (!existsSync(join(laravel, 'vendor', 'laravel', 'reverb'))) {
      if (process.env.CI === 'true') throw new Error('CI=true and the Laravel 11 app with Reverb is not installed (scripts/setup-laravel11.sh app)');
      ctx.skip = true;
      return;
    }
    ctx.reverb = await startReverb();
    ctx.echo = await startServer({ apps: [app] });
  });
  after(async () => {
    ctx.reverb?.stop();
    await ctx.echo?.stop();
  });

  it('observes the same frames and HTTP answers', async (t) => {
    if (ctx.skip) return t.skip('the Laravel 11 app with Reverb is not installed');
    const reverb = await session(`ws://127.0.0.1:${ctx.reverb.port}`, `http://127.0.0.1:${ctx.reverb.port}`);
    const echo = await session(`ws://127.0.0.1:${ctx.echo.port}`, ctx.echo.url);
    assert.equal(echo.length, reverb.length);
    const differences = [];
    for (let i = 0; i < reverb.length; i++) {
      const [step, expected] = reverb[i];
      const [, actual] = echo[i];
      const allowed = documented.get(step);
      try {
        assert.deepStrictEqual(actual, expected);
      } catch {
        if (allowed) {
          assert.deepStrictEqual([expected, actual], allowed, `${step}: the documented difference`);
        } else {
          differences.push(`${step}:\n  reverb:    ${JSON.stringify(expected)}\n  rust-echo: ${JSON.stringify(actual)}`);
        }
      }
    }
    assert.deepEqual(differences, [], differences.join('\n'));
  });
});
