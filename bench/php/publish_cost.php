<?php

// µs per publish from one PHP process: RustEcho\publish over shared memory (server in another
// process) and in-process (server on a thread of this process), against phpredis PUBLISH to a
// local redis-server that the server psubscribes to (the classic laravel-echo-server path).
//
//   php -d extension=target/release/librust_echo.so bench/php/publish_cost.php [EVENTS]
//
// Prints a table and `ratio php_call_* VALUE` lines (bigger is better for rust-echo); the
// Laravel-level figures (`php_publish_*`) come from broadcast_cost.php.

declare(strict_types=1);

require __DIR__ . '/servers.php';

$events = (int) ($argv[1] ?? 100_000);
$root = dirname(__DIR__, 2);
$binary = getenv('RUST_ECHO_BIN') ?: "$root/target/release/rust-echo";
$payload = json_encode(['event' => 'App\\Events\\OrderShipped', 'data' => ['id' => 1234, 'total' => 99.5], 'socket' => null]);
$data = json_encode(['id' => 1234, 'total' => 99.5, 'socket' => null]);
// Below the in-process queue's 16,384 slots, so a batch never waits for the drain thread.
const BATCH = 10_000;

/**
 * Time $events publishes over $transport in batches, letting the consumer catch up between
 * batches (only the calls are timed; the loops are inline so no closure call is measured).
 * Returns µs per call.
 */
function measure(string $transport, int $events, string $data, string $payload, ?Redis $redis): float
{
    $spent = 0;
    for ($done = 0; $done < $events; $done += BATCH) {
        $n = min(BATCH, $events - $done);
        $ok = true;
        $t = hrtime(true);
        if ($transport === 'redis') {
            for ($i = 0; $i < $n; $i++) {
                $ok = $redis->publish('orders', $payload) !== false && $ok;
            }
        } else {
            for ($i = 0; $i < $n; $i++) {
                $ok = RustEcho\publish(['orders'], 'App\\Events\\OrderShipped', $data) === $transport && $ok;
            }
        }
        $spent += hrtime(true) - $t;
        if (! $ok) {
            fwrite(STDERR, "a $transport publish was refused\n");
            exit(1);
        }
        if ($transport === 'memory') {
            waitFor(static fn () => RustEcho\Server::stats()['memory_queue'] === 0, 'drain');
        }
    }

    return $spent / 1e3 / $events;
}

[, , $phpredis] = startServers($binary);

$results = [];
$results['redis'] = measure('redis', intdiv($events, 2), $data, $payload, $phpredis);
$results['shm'] = measure('shm', $events, $data, $payload, null);
RustEcho\Server::start(['host' => '127.0.0.1', 'port' => 0, 'subscribers' => ['redis' => false], 'shm' => ['enabled' => false], 'metrics' => ['enabled' => false]]);
$results['memory'] = measure('memory', $events, $data, $payload, null);
RustEcho\Server::stop();

printf("%-40s %10s\n", 'transport (one PHP process)', 'µs/publish');
printf("%-40s %10.3f\n", 'phpredis PUBLISH (laravel-echo-server path)', $results['redis']);
printf("%-40s %10.3f\n", 'RustEcho\\publish, shared memory', $results['shm']);
printf("%-40s %10.3f\n", 'RustEcho\\publish, in-process', $results['memory']);
printf("ratio php_call_shm_x_phpredis %.1f\n", $results['redis'] / $results['shm']);
printf("ratio php_call_memory_x_phpredis %.1f\n", $results['redis'] / $results['memory']);
