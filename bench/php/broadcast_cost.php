<?php

// µs per broadcast from one PHP process through Laravel: the package's `rust` driver publishing
// through the extension (shared memory to a server in another process, and in-process to a
// server on a thread of this process) against Laravel's own RedisBroadcaster on phpredis (one
// EVAL of its PUBLISH script per broadcast — the laravel-echo-server path).
//
//   php -d extension=target/release/librust_echo.so bench/php/broadcast_cost.php [EVENTS]
//
// Two levels, both timed in a loop of EVENTS calls (batches of 10,000, only the calls timed):
// - driver: `Broadcast::connection(X)->broadcast($channels, $event, $payload)`, what Laravel's
//   BroadcastEvent job calls — the ratios compare this, the cost the transport decides;
// - event: `broadcast(new OrderShipped(...))` for a ShouldBroadcastNow event, the whole path
//   (event dispatcher, bus, BroadcastEvent, payload from public properties) for scale.
//
// Prints a table and `ratio NAME VALUE` lines (bigger is better for rust-echo).

declare(strict_types=1);

require __DIR__ . '/servers.php';
require __DIR__ . '/laravel.php';

use Illuminate\Support\Facades\Broadcast;

$events = (int) ($argv[1] ?? 100_000);
$root = dirname(__DIR__, 2);
$binary = getenv('RUST_ECHO_BIN') ?: "$root/target/release/rust-echo";
const BATCH = 10_000;

if (! extension_loaded('rust_echo')) {
    fwrite(STDERR, "load the extension: php -d extension=target/release/librust_echo.so ...\n");
    exit(1);
}

[$redisPort] = startServers($binary);
$app = bootLaravel($root, $redisPort);

/**
 * µs per call of $call over $events calls; after each batch the in-process queue drains (the
 * in-process queue holds 16,384 messages; the shared-memory ring is sized for all of them).
 */
function perCall(int $events, callable $batch): float
{
    $spent = 0;
    for ($done = 0; $done < $events; $done += BATCH) {
        $n = min(BATCH, $events - $done);
        $spent += $batch($n);
        if (RustEcho\Server::running()) {
            waitFor(static fn () => RustEcho\Server::stats()['memory_queue'] === 0, 'drain');
        }
    }

    return $spent / 1e3 / $events;
}

/** Time $n driver-level broadcasts on $connection; returns ns. */
function driverBatch(string $connection, int $n): int
{
    $broadcaster = Broadcast::connection($connection);
    $payload = ['id' => 1234, 'total' => 99.5, 'socket' => null];
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $broadcaster->broadcast(['orders'], 'App\\Events\\OrderShipped', $payload);
    }

    return hrtime(true) - $t;
}

/** Time $n event broadcasts with $connection as the default; returns ns. */
function eventBatch(string $connection, int $n): int
{
    config(['broadcasting.default' => $connection]);
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        broadcast(new BenchOrderShipped($i));
    }

    return hrtime(true) - $t;
}

/** Make sure the rust driver really takes the expected transport before timing it. */
function expectTransport(string $expected): void
{
    $via = RustEcho\publish(['orders'], 'App\\Events\\Probe', '{}');
    if ($via !== $expected) {
        fwrite(STDERR, "expected the $expected transport, the extension chose " . var_export($via, true) . "\n");
        exit(1);
    }
}

$redisEvents = intdiv($events, 2);
$r = [];
$r['redis'] = perCall($redisEvents, static fn (int $n) => driverBatch('redis', $n));
$r['redis_event'] = perCall($redisEvents, static fn (int $n) => eventBatch('redis', $n));
expectTransport('shm');
$r['shm'] = perCall($events, static fn (int $n) => driverBatch('rust', $n));
$r['shm_event'] = perCall($events, static fn (int $n) => eventBatch('rust', $n));
RustEcho\Server::start(['host' => '127.0.0.1', 'port' => 0, 'subscribers' => ['redis' => false], 'shm' => ['enabled' => false], 'metrics' => ['enabled' => false]]);
expectTransport('memory');
$r['memory'] = perCall($events, static fn (int $n) => driverBatch('rust', $n));
$r['memory_event'] = perCall($events, static fn (int $n) => eventBatch('rust', $n));
RustEcho\Server::stop();

printf("%-58s %12s %12s\n", 'Laravel broadcast (one PHP process), µs per call', 'driver', 'event');
printf("%-58s %12.2f %12.2f\n", 'redis driver (RedisBroadcaster, phpredis EVAL PUBLISH)', $r['redis'], $r['redis_event']);
printf("%-58s %12.2f %12.2f\n", 'rust driver, extension over shared memory', $r['shm'], $r['shm_event']);
printf("%-58s %12.2f %12.2f\n", 'rust driver, extension in-process', $r['memory'], $r['memory_event']);
printf("ratio php_publish_shm_x_phpredis %.1f\n", $r['redis'] / $r['shm']);
printf("ratio php_publish_memory_x_phpredis %.1f\n", $r['redis'] / $r['memory']);
printf("ratio php_event_shm_x_phpredis %.2f\n", $r['redis_event'] / $r['shm_event']);
printf("ratio php_event_memory_x_phpredis %.2f\n", $r['redis_event'] / $r['memory_event']);
