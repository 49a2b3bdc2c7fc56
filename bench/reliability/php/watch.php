<?php

// A ring publisher that never stops: one publish every millisecond on CHANNEL (argv[1]) over
// the ring named by RUST_ECHO_RING. It prints `state shm` / `state false` when the answer
// changes, and on a `stop` line the longest publish() call in microseconds: `maxcall N`.

$channel = $argv[1];
$state = null;
$maxCall = 0.0;
$n = 0;
stream_set_blocking(STDIN, false);
echo "ready\n";
while (true) {
    $t = hrtime(true);
    $via = RustEcho\publish([$channel], 'App\\Events\\Watch', '{"n":' . $n++ . '}');
    $call = (hrtime(true) - $t) / 1000;
    $maxCall = max($maxCall, $call);
    $now = $via === 'shm' ? 'shm' : 'false';
    if ($now !== $state) {
        $state = $now;
        echo "state $now\n";
    }
    if (trim((string) fgets(STDIN)) === 'stop') {
        break;
    }
    usleep(1000);
}
printf("maxcall %d\n", $maxCall);
