<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel11;

use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * A real laravel-echo client (socket.io-client 4, e2e/bin/echo-client.mjs) on public, private
 * and presence channels, authorized as user $user through the app's /broadcasting/auth.
 */
final class EchoClient
{
    private Process $process;

    /**
     * Connect, join $channels and wait until each is joined or refused.
     *
     * @param list<string> $channels
     */
    public function __construct(string $url, array $channels, string $event, ?int $user = null)
    {
        $command = ['node', Paths::root() . '/e2e/bin/echo-client.mjs', $url, ...$channels, '--event', $event];
        if ($user !== null) {
            array_push($command, '--user', (string) $user);
        }
        $this->process = new Process($command, [], Paths::root() . '/e2e');
        $this->process->waitFor("ready\n", 20.0);
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
     * Wait until $count lines were seen and return them all, in arrival order.
     *
     * @return list<array<string, mixed>>
     */
    public function take(int $count, float $seconds = 20.0): array
    {
        return Wait::until(
            "$count lines from the echo client",
            fn () => count($lines = $this->lines()) >= $count ? $lines : null,
            fn () => json_encode($this->lines()) . ' stderr: ' . $this->process->errors(),
            $seconds,
        );
    }

    /**
     * Wait until a line with this event data arrived, and return every line up to it.
     *
     * @return list<array<string, mixed>>
     */
    public function until(mixed $data, float $seconds = 20.0): array
    {
        return Wait::until(
            'the event ' . json_encode($data),
            function () use ($data) {
                $lines = $this->lines();
                foreach ($lines as $i => $line) {
                    if (($line['data'] ?? null) === $data && isset($line['event'])) {
                        return array_slice($lines, 0, $i + 1);
                    }
                }

                return null;
            },
            fn () => json_encode($this->lines()) . ' stderr: ' . $this->process->errors(),
            $seconds,
        );
    }

    /**
     * Get the data of every event line so far.
     *
     * @return list<mixed>
     */
    public function events(): array
    {
        $events = array_filter($this->lines(), static fn (array $l) => isset($l['event']));

        return array_values(array_column($events, 'data'));
    }

    /**
     * Get every JSON line so far.
     *
     * @return list<array<string, mixed>>
     */
    public function lines(): array
    {
        $lines = explode("\n", $this->process->output());
        array_pop($lines);
        $json = array_filter($lines, static fn (string $l) => str_starts_with($l, '{'));

        return array_values(array_map(static fn (string $l) => json_decode($l, true, 512, JSON_THROW_ON_ERROR), $json));
    }
}
