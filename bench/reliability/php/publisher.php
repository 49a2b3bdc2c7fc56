<?php

// A publisher driven by the reliability suite over stdin/stdout. MODE `host` starts the server
// in this process (config JSON in argv[6]) and publishes in-process; MODE `ring` publishes over
// the ring named by RUST_ECHO_RING. Each `go` line publishes BATCH events on CHANNEL with data
// {"c":ID,"s":SEQUENCE,"t":0,"w":0}; a publish answered false (queue or ring full) is retried.

[, $mode, $channel, $id, $count, $batch] = $argv;
$count = (int) $count;
$batch = (int) $batch;
if ($mode === 'host') {
    RustEcho\Server::start(json_decode($argv[6], true));
}
$expect = $mode === 'host' ? 'memory' : 'shm';
echo "ready\n";
$retries = 0;
$s = 0;
while ($s < $count && trim((string) fgets(STDIN)) === 'go') {
    $end = min($count, $s + $batch);
    for (; $s < $end; $s++) {
        $data = '{"c":' . $id . ',"s":' . $s . ',"t":0,"w":0}';
        $giveUp = null;
        while (($via = RustEcho\publish([$channel], 'App\\Events\\Bench', $data)) !== $expect) {
            if ($via !== false) {
                echo "error publish went over $via\n";
                exit(1);
            }
            $retries++;
            $giveUp ??= microtime(true) + 10;
            if (microtime(true) > $giveUp) {
                echo "error publish answered false for 10 s at $s\n";
                exit(1);
            }
            usleep(100);
        }
    }
    echo "published $s\n";
}
echo "done $s $retries\n";
if ($mode === 'host') {
    fgets(STDIN);
    RustEcho\Server::stop();
}
