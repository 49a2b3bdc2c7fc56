<?php

// Fork safety: the parent hosts a server, then forks. The child must not use the parent's
// threads (they do not exist in the child): running() is false there, and publish() reaches the
// parent's server over its shared-memory ring instead of the in-process queue.
//   php fork_after_start.php PORT
// Prints one line per observation; exit code 0 when the child behaved.

declare(strict_types=1);

$port = (int) $argv[1];
RustEcho\Server::start([
    'host' => '127.0.0.1',
    'port' => $port,
    'subscribers' => ['redis' => false],
    'clients' => [['appId' => 'app', 'key' => 'secret']],
]);
ini_set('rust_echo.ring', "rust-echo-$port");
echo "started\n";
fflush(STDOUT);
// Wait for the test's listener before publishing anything.
$deadline = microtime(true) + 15;
$url = "http://127.0.0.1:$port/apps/app/channels/fork?auth_key=secret";
while ((json_decode((string) @file_get_contents($url), true)['subscription_count'] ?? 0) < 1) {
    if (microtime(true) > $deadline) {
        exit(2);
    }
    usleep(10_000);
}
$via = RustEcho\publish(['fork'], 'E', '"parent"');
echo 'parent running=', var_export(RustEcho\Server::running(), true), ' via=', $via, "\n";
fflush(STDOUT);
// Events of different processes and transports are not ordered among themselves: let the
// in-process one reach the socket before the child publishes over the ring.
while (RustEcho\Server::stats()['messages_delivered'] < 1) {
    if (microtime(true) > $deadline) {
        exit(3);
    }
    usleep(1_000);
}

$pid = pcntl_fork();
if ($pid === 0) {
    $via = RustEcho\publish(['fork'], 'E', '"child"');
    echo 'child running=', var_export(RustEcho\Server::running(), true), ' via=', var_export($via, true), "\n";
    fflush(STDOUT);
    exit($via === 'shm' && ! RustEcho\Server::running() ? 0 : 1);
}
pcntl_waitpid($pid, $status);
$via = RustEcho\publish(['fork'], 'E', '"parent again"');
echo 'parent after fork running=', var_export(RustEcho\Server::running(), true), ' via=', $via, "\n";
// Give the listener time to see all three events before the server stops.
usleep(300_000);
RustEcho\Server::stop();
exit(pcntl_wexitstatus($status));
