<?php

// Helpers of octane_rps.php: processes in groups of their own, readiness, and an HTTP load
// generator on keep-alive connections (curl_multi).

declare(strict_types=1);

function freePort(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($s, false);
    fclose($s);

    return (int) substr($name, strrpos($name, ':') + 1);
}

/**
 * Start a command in a process group of its own (stopped at exit) with output to a log file.
 *
 * @param list<string> $command
 * @param array<string, string> $env
 * @param list<array{resource, string}> $children
 */
function start(array $command, array $env, string $cwd, array &$children): string
{
    $log = tempnam(sys_get_temp_dir(), 'octane-rps-');
    $io = [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']];
    $handle = proc_open(['setsid', ...$command], $io, $pipes, $cwd, $env + getenv());
    $children[] = [$handle, $log];

    return $log;
}

function waitFor(string $url, string $what, string $log): void
{
    $deadline = microtime(true) + 60;
    while (@file_get_contents($url) === false) {
        if (microtime(true) > $deadline) {
            fwrite(STDERR, "octane_rps: $what did not start:\n" . file_get_contents($log));
            exit(1);
        }
        usleep(20_000);
    }
}

/**
 * GET $count URLs from $concurrency keep-alive connections; return requests per second.
 */
function load(string $url, int $count, int $concurrency): float
{
    $multi = curl_multi_init();
    $handles = [];
    for ($i = 0; $i < $concurrency; $i++) {
        $handles[$i] = curl_init();
        curl_setopt_array($handles[$i], [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30]);
    }
    $sent = 0;
    $done = 0;
    $failed = 0;
    $add = static function ($h) use (&$sent, $url, $multi): void {
        curl_setopt($h, CURLOPT_URL, $url . $sent++);
        curl_multi_add_handle($multi, $h);
    };
    $started = hrtime(true);
    foreach ($handles as $h) {
        if ($sent < $count) {
            $add($h);
        }
    }
    while ($done < $count) {
        curl_multi_exec($multi, $running);
        curl_multi_select($multi, 0.05);
        while ($info = curl_multi_info_read($multi)) {
            $h = $info['handle'];
            $failed += (int) (curl_getinfo($h, CURLINFO_RESPONSE_CODE) !== 200);
            curl_multi_remove_handle($multi, $h);
            $done++;
            if ($sent < $count) {
                $add($h);
            }
        }
    }
    $seconds = (hrtime(true) - $started) / 1e9;
    if ($failed > 0) {
        fwrite(STDERR, "octane_rps: $failed of $count requests to $url failed\n");
        exit(1);
    }

    return $count / $seconds;
}
