// nginx as the tests' own process: the recipe of docs/examples/nginx-cluster.conf with only the
// upstream addresses and the listening port changed, wrapped in a main config whose pid file,
// logs and temp files are in a fresh temp dir; `daemon off`, stopped by its pid.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { root, freePort, until } from './harness.mjs';

export const recipePath = join(root, 'docs', 'examples', 'nginx-cluster.conf');

/** Whether an nginx binary is installed (scripts/setup.sh installs nginx-light). */
export function nginxInstalled() {
  return spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** The recipe with its two example servers replaced by `upstreams` and `listen 80` by `port`. */
export function recipeFor(upstreams, port) {
  const recipe = readFileSync(recipePath, 'utf8');
  const examples = ['10.0.0.11:6001', '10.0.0.12:6001'];
  for (const e of examples) {
    if (!recipe.includes(`server ${e};`)) throw new Error(`the recipe no longer names ${e}`);
  }
  const servers = upstreams.map((u) => `    server ${u};`).join('\n');
  return recipe
    .replace(/    server 10\.0\.0\.11:6001;\n    server 10\.0\.0\.12:6001;/, servers)
    .replace('listen 80;', `listen 127.0.0.1:${port};`);
}

/** nginx in front of `upstreams` ("host:port"); resolves once it accepts connections. */
export async function startNginx(upstreams) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rust-echo-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'rust-echo.conf'), recipeFor(upstreams, port));
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/rust-echo.conf;
}
`);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const accepting = () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${out}${readLog(dir)}`);
    return accepting();
  }, `nginx on ${port}`);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => readLog(dir),
    stop: () => new Promise((r) => {
      const done = () => { rmSync(dir, { recursive: true, force: true }); r(); };
      if (child.exitCode !== null) return done();
      child.on('exit', done);
      child.kill('SIGTERM');
    }),
  };
}

function readLog(dir) {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}
