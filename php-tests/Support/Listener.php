<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

/**
 * A real laravel-echo client (Node, socket.io-client 4 or 2) subscribed to public channels.
 */
final class Listener
{
    private Process $process;

    /**
     * Connect to the server at $url and subscribe to $channels, listening for $event.
     *
     * @param list<string> $channels
     */
    public function __construct(string $url, array $channels, string $event = 'E', bool $v2 = false)
    {
        $script = Paths::root() . '/e2e/bin/listen.mjs';
        $command = ['node', $script, $url, ...$channels, '--event', $event, '--idle', '60000'];
        if ($v2) {
            $command[] = '--v2';
        }
        $this->process = new Process($command, [], Paths::root() . '/e2e');
        $this->process->waitFor("ready\n", 15.0);
    }

    /**
     * Wait for $count events (or fail after $seconds) and return them in arrival order.
     *
     * @return list<array{channel: string, event: string, data: mixed}>
     */
    public function take(int $count, float $seconds = 20.0): array
    {
        $deadline = microtime(true) + $seconds;
        while (count($lines = $this->lines()) < $count) {
            if (microtime(true) > $deadline) {
                $why = sprintf('received %d of %d events; stderr: %s', count($lines), $count, $this->process->errors());
                throw new \RuntimeException($why);
            }
            usleep(5_000);
        }

        return array_map(static fn (string $l) => json_decode($l, true, 512, JSON_THROW_ON_ERROR), $lines);
    }

    /**
     * Get the client's socket id (what laravel-echo sends as X-Socket-ID).
     */
    public function socketId(): string
    {
        preg_match('/^socket (\S+)$/m', $this->process->output(), $m);

        return $m[1] ?? '';
    }

    /**
     * Get every event line received so far.
     *
     * @return list<string>
     */
    private function lines(): array
    {
        // Events can be printed before "ready" when a publisher was waiting for the subscription.
        $lines = explode("\n", $this->process->output());
        array_pop($lines);

        return array_values(array_filter(
            $lines,
            static fn (string $l) => $l !== 'ready' && ! str_starts_with($l, 'socket '),
        ));
    }
}
