<?php

// What the PHP publish benchmarks start: a redis-server on a free port and the rust-echo binary
// (psubscribed to that Redis, with its shared-memory ring). Both are stopped when the script
// ends, including on a fatal error.

declare(strict_types=1);

function freePort(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($s, false);
    fclose($s);

    return (int) substr($name, strrpos($name, ':') + 1);
}

function waitFor(callable $ready, string $what): void
{
    $deadline = microtime(true) + 10;
    while (! $ready()) {
        if (microtime(true) > $deadline) {
            fwrite(STDERR, "$what did not start\n");
            exit(1);
        }
        usleep(10_000);
    }
}

/**
 * Start redis-server and rust-echo; returns [redis port, rust-echo port, phpredis connection].
 *
 * @return array{int, int, Redis}
 */
function startServers(string $binary): array
{
    $redisPort = freePort();
    $redis = proc_open(
        ['redis-server', '--port', (string) $redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
        $pipes
    );
    $phpredis = new Redis();
    waitFor(static function () use ($phpredis, $redisPort): bool {
        try {
            return $phpredis->connect('127.0.0.1', $redisPort);
        } catch (RedisException) {
            return false;
        }
    }, 'redis-server');

    $port = freePort();
    $dir = sys_get_temp_dir() . '/rust-echo-bench-' . getmypid();
    @mkdir($dir);
    file_put_contents("$dir/laravel-echo-server.json", json_encode([
        'host' => '127.0.0.1',
        'port' => $port,
        'clients' => [['appId' => 'bench', 'key' => 'bench']],
        'subscribers' => ['http' => false, 'redis' => true],
        'databaseConfig' => ['redis' => ['host' => '127.0.0.1', 'port' => $redisPort]],
        'shm' => ['size' => 64 * 1024 * 1024],
        'metrics' => ['enabled' => false],
    ]));
    $server = proc_open(
        [$binary, 'start', '--dir', $dir],
        [1 => ['file', '/dev/null', 'w'], 2 => ['file', "$dir/server.log", 'w']],
        $pipes,
        null,
        ['RUST_LOG' => 'warn']
    );
    // SIGTERM on every exit path: rust-echo removes its ring file when it stops.
    register_shutdown_function(static function () use ($server, $redis): void {
        proc_terminate($server);
        proc_terminate($redis);
    });
    $status = static fn () => json_decode((string) @file_get_contents("http://127.0.0.1:$port/apps/bench/status?auth_key=bench"), true);
    waitFor(static fn () => ($status()['redis_connected'] ?? false) === true, 'rust-echo');
    ini_set('rust_echo.ring', "rust-echo-$port");

    return [$redisPort, $port, $phpredis];
}
