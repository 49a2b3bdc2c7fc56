<?php

// Forked producers for the shared-memory tests:
//   php produce.php RING PRODUCERS EVENTS CHANNEL
// The parent publishes once first, so every child inherits attached state and has to re-attach.
// Each child publishes EVENTS events with data [id, seq], retrying while the ring is full.

declare(strict_types=1);

[, $ring, $producers, $events, $channel] = $argv;
ini_set('rust_echo.ring', $ring);

if (RustEcho\publish([$channel . '-warmup'], 'W', '0') !== 'shm') {
    fwrite(STDERR, "no server behind ring $ring\n");
    exit(3);
}

$children = [];
for ($id = 0; $id < (int) $producers; $id++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        for ($seq = 0; $seq < (int) $events; $seq++) {
            $deadline = microtime(true) + 5;
            while (($via = RustEcho\publish([$channel], 'E', "[$id,$seq]")) !== 'shm') {
                if ($via !== false || microtime(true) > $deadline) {
                    fwrite(STDERR, "producer $id failed at $seq: " . var_export($via, true) . "\n");
                    exit(1);
                }
                usleep(100);
            }
        }
        exit(0);
    }
    $children[] = $pid;
}

$failed = 0;
foreach ($children as $pid) {
    pcntl_waitpid($pid, $status);
    if (! pcntl_wifexited($status) || pcntl_wexitstatus($status) !== 0) {
        $failed++;
    }
}
exit($failed === 0 ? 0 : 1);
