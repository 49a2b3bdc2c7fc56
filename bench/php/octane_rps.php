<?php

// Requests per second of an Octane (Swoole) route that broadcasts one event, with the `rust`
// driver over the shared-memory ring, Laravel's `redis` driver (phpredis, redis-server running)
// and Laravel's `reverb` driver (a running `reverb:start`), side by side in one run; a route
// broadcasting through the `null` driver gives the ceiling. The app is the Laravel 11 test app
// (.build/laravel11-app, scripts/setup-laravel11.sh), its route GET /via/{connection}/{text}.
//
//   php bench/php/octane_rps.php [REQUESTS] [CONCURRENCY] [production|dev]
//   (needs target/release/librust_echo.so)
//
// `production` (the default) runs a copy of the app as it is deployed: APP_ENV=production,
// APP_DEBUG=false, `config:cache`, `route:cache` and `event:cache`; `dev` runs the app as it is.
//
// Rounds alternate the drivers (rust, redis, reverb, null) so a busy machine hurts each alike;
// each driver's best round counts. Prints a table and `ratio NAME VALUE` lines.

declare(strict_types=1);

require __DIR__ . '/octane.php';

$requests = (int) ($argv[1] ?? 4000);
$concurrency = (int) ($argv[2] ?? 16);
$mode = $argv[3] ?? 'production';
const ROUNDS = 3;
$root = dirname(__DIR__, 2);
$app = "$root/.build/laravel11-app";
$extension = getenv('RUST_ECHO_EXT') ?: "$root/target/release/librust_echo.so";

$needs = [
    "$app/vendor/autoload.php" => 'scripts/setup-laravel11.sh app',
    $extension => 'cargo build --release -p rust_echo',
];
foreach ($needs as $file => $fix) {
    if (! is_file($file)) {
        fwrite(STDERR, "octane_rps: $file is missing ($fix)\n");
        exit(1);
    }
}

/** @var list<array{resource, string}> $children */
$children = [];
register_shutdown_function(static function () use (&$children): void {
    foreach (array_reverse($children) as [$handle]) {
        $pid = proc_get_status($handle)['pid'];
        posix_kill(-$pid, SIGTERM);
        for ($i = 0; $i < 300 && proc_get_status($handle)['running']; $i++) {
            usleep(10_000);
        }
        posix_kill(-$pid, SIGKILL);
        proc_close($handle);
    }
});

$tmp = sys_get_temp_dir() . '/octane-rps-' . getmypid();
@mkdir("$tmp/conf.d", 0700, true);
// Runs after the processes above are stopped (shutdown functions run in order).
register_shutdown_function(static fn () => exec('rm -rf ' . escapeshellarg($tmp)));
file_put_contents("$tmp/conf.d/80-swoole.ini", "extension=swoole\n");
file_put_contents("$tmp/conf.d/90-rust_echo.ini", "extension=$extension\n");
copy("$app/database/database.sqlite", "$tmp/database.sqlite");
[$echoPort, $httpPort, $redisPort, $reverbPort] = [freePort(), freePort(), freePort(), freePort()];
$env = [
    'PHP_INI_SCAN_DIR' => PHP_CONFIG_FILE_SCAN_DIR . ":$tmp/conf.d",
    'RUST_ECHO_PORT' => (string) $echoPort,
    'RUST_ECHO_METRICS_PORT' => (string) freePort(),
    'RUST_ECHO_APP_ID' => 'app',
    'RUST_ECHO_APP_KEY' => 'secret',
    'REDIS_PORT' => (string) $redisPort,
    'REVERB_HOST' => '127.0.0.1',
    'REVERB_PORT' => (string) $reverbPort,
    'DB_DATABASE' => "$tmp/database.sqlite",
];

if ($mode === 'production') {
    // A copy: cached configuration would pin the test app's per-process settings.
    exec('cp -a ' . escapeshellarg($app) . ' ' . escapeshellarg("$tmp/app"), $out, $status);
    $app = "$tmp/app";
    $env += ['APP_ENV' => 'production', 'APP_DEBUG' => 'false', 'LOG_LEVEL' => 'warning'];
    foreach (['config:cache', 'route:cache', 'event:cache'] as $command) {
        $io = [1 => ['file', '/dev/null', 'w']];
        $cache = proc_open([PHP_BINARY, 'artisan', $command], $io, $pipes, $app, $env + getenv());
        if ($status !== 0 || proc_close($cache) !== 0) {
            fwrite(STDERR, "octane_rps: artisan $command failed in $app\n");
            exit(1);
        }
    }
}

$redisArgs = ['--port', (string) $redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
$log = start(['redis-server', ...$redisArgs], $env, $app, $children);
$deadline = microtime(true) + 10;
while (@fsockopen('127.0.0.1', $redisPort) === false && microtime(true) < $deadline) {
    usleep(20_000);
}
$log = start([PHP_BINARY, 'artisan', 'rust-echo:serve'], $env, $app, $children);
waitFor("http://127.0.0.1:$echoPort/", 'rust-echo:serve', $log);
$log = start([PHP_BINARY, 'artisan', 'reverb:start', '--host=127.0.0.1', "--port=$reverbPort"], $env, $app, $children);
waitFor("http://127.0.0.1:$reverbPort/up", 'reverb:start', $log);
$octane = [PHP_BINARY, 'artisan', 'octane:start', '--server=swoole', '--host=127.0.0.1', "--port=$httpPort",
    '--workers=2', '--task-workers=0', '--max-requests=1000000'];
$log = start($octane, $env, $app, $children);
waitFor("http://127.0.0.1:$httpPort/up", 'octane:start', $log);

$drivers = ['rust' => 'rust-extension', 'redis' => 'redis', 'reverb' => 'reverb', 'null' => 'null'];
$best = array_fill_keys(array_keys($drivers), 0.0);
foreach ($drivers as $connection) {
    load("http://127.0.0.1:$httpPort/via/$connection/warm-", 300, $concurrency);
}
for ($round = 0; $round < ROUNDS; $round++) {
    foreach ($drivers as $name => $connection) {
        $rps = load("http://127.0.0.1:$httpPort/via/$connection/r$round-", $requests, $concurrency);
        $best[$name] = max($best[$name], $rps);
    }
}

$title = "\nOctane (Swoole, 2 workers, %s app) route broadcasting one event: %d requests x %d rounds, %d connections\n";
printf($title, $mode, $requests, ROUNDS, $concurrency);
printf("%-44s %12s\n", 'driver', 'requests/s');
$labels = [
    'rust' => 'rust (extension, shared-memory ring)',
    'redis' => 'redis (phpredis, redis-server)',
    'reverb' => 'reverb (HTTP to reverb:start)',
    'null' => 'null (no broadcast: the ceiling)',
];
foreach ($best as $name => $rps) {
    printf("%-44s %12.0f\n", $labels[$name], $rps);
}
printf("ratio octane_broadcast_rps_x_redis %.2f\n", $best['rust'] / $best['redis']);
printf("ratio octane_broadcast_rps_x_reverb %.2f\n", $best['rust'] / $best['reverb']);
