<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel11;

use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Requirements;

/**
 * The Laravel 11 test app (.build/laravel11-app, installed by scripts/setup-laravel11.sh) as its
 * processes see it: every PHP process loads the extensions through PHP_INI_SCAN_DIR, as Octane's
 * own child processes must, and gets this instance's ports, ring and SQLite database.
 */
final class App
{
    public readonly string $dir;

    public readonly int $echoPort;

    public readonly int $httpPort;

    public readonly string $echoUrl;

    public readonly string $httpUrl;

    /** @var array<string, string> */
    private array $env;

    /**
     * Prepare an app instance; $swoole also loads ext-swoole in its processes.
     */
    public function __construct(bool $swoole = false)
    {
        $this->dir = Paths::root() . '/.build/laravel11-app';
        if (! is_file($this->dir . '/vendor/autoload.php')) {
            self::missing('the Laravel 11 test app is not installed (run scripts/setup-laravel11.sh app)');
        }
        $tmp = Paths::tempDir('rust-echo-l11');
        $scan = "$tmp/conf.d";
        mkdir($scan);
        file_put_contents("$scan/90-rust_echo.ini", 'extension=' . Paths::extension() . "\n");
        if ($swoole) {
            file_put_contents("$scan/80-swoole.ini", "extension=swoole\n");
        }
        copy($this->dir . '/database/database.sqlite', "$tmp/database.sqlite");

        $this->echoPort = Paths::freePort();
        $this->httpPort = Paths::freePort();
        $this->echoUrl = "http://127.0.0.1:{$this->echoPort}";
        $this->httpUrl = "http://127.0.0.1:{$this->httpPort}";
        $this->env = [
            'PHP_INI_SCAN_DIR' => PHP_CONFIG_FILE_SCAN_DIR . ':' . $scan,
            'RUST_ECHO_HOST' => '127.0.0.1',
            'RUST_ECHO_PORT' => (string) $this->echoPort,
            'RUST_ECHO_METRICS_PORT' => (string) Paths::freePort(),
            'RUST_ECHO_APP_ID' => 'app',
            'RUST_ECHO_APP_KEY' => 'secret',
            'RUST_ECHO_AUTH_HOST' => $this->httpUrl,
            'DB_DATABASE' => "$tmp/database.sqlite",
            // Nothing listens here: a broadcast that fell back to Redis would fail loudly.
            'REDIS_PORT' => (string) Paths::freePort(),
        ];
    }

    /**
     * The REVERB_APP_* values of the app's .env (what `install:broadcasting` wrote).
     *
     * @return array<string, string>
     */
    public function reverbEnv(): array
    {
        $values = [];
        foreach (file($this->dir . '/.env', FILE_IGNORE_NEW_LINES) ?: [] as $line) {
            if (preg_match('/^(REVERB_APP_(?:ID|KEY|SECRET))=(.*)$/', $line, $m)) {
                $values[$m[1]] = trim($m[2], '"\'');
            }
        }

        return $values;
    }

    /**
     * Whether ext-swoole is installed in this PHP (not necessarily enabled).
     */
    public static function hasSwoole(): bool
    {
        $script = 'echo extension_loaded("swoole") ? 1 : 0;';
        $probe = new Process([PHP_BINARY, '-n', '-d', 'extension=swoole', '-r', $script]);
        $probe->wait();

        return $probe->output() === '1';
    }

    /**
     * Skip (or, under CI=true, fail) for want of a component.
     */
    public static function missing(string $what): never
    {
        if (Requirements::strict()) {
            throw new \RuntimeException("CI=true and $what");
        }
        throw new \PHPUnit\Framework\SkippedTestError($what);
    }

    /**
     * Run `php artisan ...` in the app with extra environment variables.
     *
     * @param list<string> $args
     * @param array<string, string> $env
     */
    public function artisan(array $args, array $env = []): Process
    {
        return new Process([PHP_BINARY, 'artisan', ...$args], $env + $this->env, $this->dir);
    }

    /**
     * Run an artisan command to its end and return its output; fail on a non-zero exit.
     *
     * @param list<string> $args
     * @param array<string, string> $env
     */
    public function run(array $args, array $env = []): string
    {
        $p = $this->artisan($args, $env);
        $code = $p->wait(60);
        if ($code !== 0) {
            $command = 'artisan ' . implode(' ', $args);
            throw new \RuntimeException("$command exited $code: {$p->output()} {$p->errors()}");
        }

        return $p->output();
    }

    /**
     * Start `php artisan rust-echo:serve` and wait until it answers.
     *
     * @param array<string, string> $env
     */
    public function serve(array $env = []): Process
    {
        $serve = $this->artisan(['rust-echo:serve'], $env);
        self::waitUntil("{$this->echoUrl}/", 'OK', $serve);

        return $serve;
    }

    /**
     * Serve the app over HTTP with `php -S` workers (what `php artisan serve` runs).
     */
    public function web(): Process
    {
        $web = new Process(
            [PHP_BINARY, '-S', "127.0.0.1:{$this->httpPort}", 'index.php'],
            ['PHP_CLI_SERVER_WORKERS' => '2'] + $this->env,
            $this->dir . '/public',
        );
        self::waitUntil("{$this->httpUrl}/up", null, $web);

        return $web;
    }

    /**
     * Start Octane on Swoole with $options (e.g. --workers=2) and wait until it answers.
     *
     * @param list<string> $options
     * @param array<string, string> $env
     */
    public function octane(array $options, array $env = []): Process
    {
        $args = ['octane:start', '--server=swoole', '--host=127.0.0.1', "--port={$this->httpPort}", ...$options];
        $octane = $this->artisan($args, $env);
        self::waitUntil("{$this->httpUrl}/up", null, $octane, 60.0);

        return $octane;
    }

    /**
     * GET $path from the app; return the status and the decoded JSON body (or the raw body).
     *
     * @param array<string, string> $headers
     * @return array{0: int, 1: mixed}
     */
    public function get(string $path, array $headers = []): array
    {
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        $context = stream_context_create(['http' => [
            'header' => $lines, 'ignore_errors' => true, 'timeout' => 30, 'protocol_version' => 1.0,
        ]]);
        $body = @file_get_contents($this->httpUrl . $path, false, $context);
        if ($body === false) {
            throw new \RuntimeException("GET $path: no answer");
        }
        preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);
        $json = json_decode($body, true);

        return [(int) ($m[1] ?? 0), $json ?? $body];
    }

    /**
     * Start a laravel-echo client on this app's server.
     *
     * @param list<string> $channels "news", "private:orders.1", "presence:chat"
     */
    public function client(array $channels, string $event, ?int $user = null): EchoClient
    {
        return new EchoClient($this->echoUrl, $channels, $event, $user);
    }

    /**
     * Poll $url until it answers (with $body, when given), or fail when $process ends or after $seconds.
     */
    private static function waitUntil(string $url, ?string $body, Process $process, float $seconds = 20.0): void
    {
        $deadline = microtime(true) + $seconds;
        while (true) {
            $got = @file_get_contents($url);
            if ($got !== false && ($body === null || $got === $body)) {
                return;
            }
            if (microtime(true) > $deadline || ! $process->running()) {
                throw new \RuntimeException("$url did not answer: {$process->output()} {$process->errors()}");
            }
            usleep(20_000);
        }
    }
}
