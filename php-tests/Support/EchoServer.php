<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

/**
 * A rust-echo server in another process: the extension in a PHP CLI process
 * (RustEcho\Server::serve) or the standalone binary.
 */
final class EchoServer
{
    public readonly int $port;

    public readonly string $ring;

    public readonly string $url;

    private Process $process;

    /**
     * Start a server with laravel-echo-server.json $config on a free port.
     *
     * @param array<string, mixed> $config
     */
    public function __construct(array $config = [], bool $binary = false, ?int $port = null)
    {
        $this->port = $port ?? Paths::freePort();
        $this->ring = 'rust-echo-' . $this->port;
        $this->url = "http://127.0.0.1:{$this->port}";
        $config = array_replace_recursive([
            'host' => '127.0.0.1',
            'port' => $this->port,
            'clients' => [['appId' => 'app', 'key' => 'secret']],
            'subscribers' => ['redis' => false],
        ], $config);
        if ($binary) {
            $dir = Paths::tempDir('rust-echo-server');
            file_put_contents("$dir/laravel-echo-server.json", json_encode($config));
            $this->process = new Process([Paths::binary(), 'start', '--dir', $dir], ['RUST_LOG' => 'warn']);
            $this->process->waitFor('Server ready!');
        } else {
            $script = 'RustEcho\Server::serve(json_decode($argv[1], true)); echo "stopped\n";';
            $extension = 'extension=' . Paths::extension();
            $this->process = new Process([PHP_BINARY, '-n', '-d', $extension, '-r', $script, json_encode($config)]);
            $this->waitUntilListening();
        }
    }

    /**
     * Get the server's process.
     */
    public function process(): Process
    {
        return $this->process;
    }

    /**
     * Wait until the server's Redis subscriber is connected.
     */
    public function waitForRedis(): void
    {
        $deadline = microtime(true) + 10;
        $url = $this->url . '/apps/app/status?auth_key=secret';
        while ((json_decode((string) @file_get_contents($url), true)['redis_connected'] ?? false) !== true) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException('the Redis subscriber did not connect: ' . $this->process->errors());
            }
            usleep(10_000);
        }
    }

    /**
     * Poll GET / until the server answers.
     */
    private function waitUntilListening(): void
    {
        $deadline = microtime(true) + 10;
        while (@file_get_contents($this->url . '/') !== 'OK') {
            if (microtime(true) > $deadline || ! $this->process->running()) {
                throw new \RuntimeException('server did not start: ' . $this->process->errors());
            }
            usleep(10_000);
        }
    }
}
