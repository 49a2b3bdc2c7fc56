<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use RustEcho\Tests\Support\EchoServer;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * `php artisan rust-echo:serve` and `rust-echo:status` as an operator runs them.
 */
final class CommandTest extends TestCase
{
    /**
     * Run artisan in its own process.
     *
     * @param list<string> $args
     * @param array<string, string> $env
     */
    private function artisanProcess(array $args, bool $extension, array $env = []): Process
    {
        $env += ['RUST_ECHO_REDIS' => '0', 'RUST_ECHO_APP_ID' => 'app', 'RUST_ECHO_APP_KEY' => 'secret'];

        return new Process([...$this->artisanCommand($extension), ...$args], $env);
    }

    private function waitUntilServing(int $port, Process $p): void
    {
        $deadline = microtime(true) + 10;
        while (@file_get_contents("http://127.0.0.1:$port/") !== 'OK') {
            $this->assertLessThan($deadline, microtime(true), $p->output() . $p->errors());
            usleep(20_000);
        }
    }

    public function testServeWithNeitherExtensionNorBinaryFails(): void
    {
        $p = $this->artisanProcess(['rust-echo:serve'], false, ['RUST_ECHO_BINARY' => '/nonexistent/rust-echo']);
        $this->assertSame(1, $p->wait());
        $this->assertStringContainsString(
            'rust-echo needs the rust_echo PHP extension or the rust-echo binary, and neither was found.',
            $p->errors() . $p->output(),
        );
        $this->assertStringContainsString('cargo build --release -p rust_echo', $p->output());
    }

    public function testServeWithAnUnreadableConfigFileFails(): void
    {
        $p = $this->artisanProcess(['rust-echo:serve', '--config=/nonexistent.json'], false);
        $this->assertSame(1, $p->wait());
        $expected = 'The config file [/nonexistent.json] could not be read as JSON.';
        $this->assertStringContainsString($expected, $p->errors() . $p->output());
    }

    /**
     * @requires extension rust_echo
     */
    public function testServeInProcessStatusAndSigterm(): void
    {
        $port = Paths::freePort();
        $serve = $this->artisanProcess(['rust-echo:serve', '--host=127.0.0.1', "--port=$port"], true);
        $this->waitUntilServing($port, $serve);
        $out = $serve->output();
        $this->assertStringContainsString(
            "rust-echo on http://127.0.0.1:$port, run by the rust_echo extension, in this process",
            $out,
        );
        $this->assertStringContainsString("Transports: in-process, shared-memory ring rust-echo-$port, HTTP API", $out);
        $this->assertStringContainsString('Auth host: http://127.0.0.1:8000', $out);

        $status = $this->artisanProcess(['rust-echo:status', "--url=http://127.0.0.1:$port"], false);
        $this->assertSame(0, $status->wait(), $status->errors());
        $row = "#\\| http://127.0.0.1:$port \\| 0 +\\| 0 +\\| \\d+s +\\|#";
        $this->assertMatchesRegularExpression($row, $status->output());

        $serve->signal(SIGTERM);
        $this->assertSame(0, $serve->wait(15), $serve->errors());
        $this->assertStringContainsString('rust-echo stopped.', $serve->output());
        $this->assertFalse(@file_get_contents("http://127.0.0.1:$port/"));
    }

    public function testServeRunsTheBinaryWithoutTheExtension(): void
    {
        $port = Paths::freePort();
        $serve = $this->artisanProcess(
            ['rust-echo:serve', '--host=127.0.0.1', "--port=$port"],
            false,
            ['RUST_ECHO_BINARY' => Paths::binary()],
        );
        $this->waitUntilServing($port, $serve);
        $this->assertStringContainsString('run by the rust-echo binary (' . Paths::binary() . ')', $serve->output());
        $this->assertStringContainsString('Transports: shared-memory ring, HTTP API', $serve->output());
        // The binary prints the line once start-up returns, which may be just after it answers.
        $ring = "Listening on the shared-memory ring rust-echo-$port";
        Wait::until($ring, fn () => str_contains($serve->output(), $ring), fn () => $serve->output());
        $serve->signal(SIGTERM);
        $this->assertSame(0, $serve->wait(15), $serve->errors());
        $this->assertFalse(@file_get_contents("http://127.0.0.1:$port/"));
    }

    /**
     * The binary gets its configuration on standard input: no file holds the Redis password or
     * the API key (a directory or symlink planted at the old /tmp/rust-echo-<pid> path is not
     * followed), and no command line shows them.
     */
    public function testServeWritesNoSecretToDisk(): void
    {
        $tmp = Paths::tempDir('serve-tmp');
        $planted = Paths::tempDir('serve-planted');
        $port = Paths::freePort();
        $secrets = [
            'REDIS_PASSWORD' => 'redis-' . bin2hex(random_bytes(8)),
            'RUST_ECHO_APP_KEY' => 'key-' . bin2hex(random_bytes(8)),
        ];
        // The shell plants the symlink at the path named by its own pid, then execs PHP in that pid.
        $plant = 'ln -s "$1" "$TMPDIR/rust-echo-$$" && shift && exec "$@"';
        $artisan = [...$this->artisanCommand(false), 'rust-echo:serve', '--host=127.0.0.1', "--port=$port"];
        $env = ['TMPDIR' => $tmp, 'RUST_ECHO_BINARY' => Paths::binary(), 'RUST_ECHO_REDIS' => '0'];
        $serve = new Process(['sh', '-c', $plant, 'sh', $planted, ...$artisan], $env + $secrets);
        $this->waitUntilServing($port, $serve);

        $entries = static fn (string $dir) => array_values(array_diff(scandir($dir) ?: [], ['.', '..']));
        $this->assertSame([], $entries($planted), 'nothing written through the symlink');
        $this->assertSame(["rust-echo-{$serve->pid()}"], $entries($tmp), 'only the planted symlink');
        foreach (glob('/proc/[0-9]*/cmdline') ?: [] as $cmdline) {
            $args = (string) @file_get_contents($cmdline);
            foreach ($secrets as $secret) {
                $this->assertStringNotContainsString($secret, $args, $cmdline);
            }
        }

        $serve->signal(SIGTERM);
        $this->assertSame(0, $serve->wait(15), $serve->errors());
    }

    /**
     * Two servers of one cluster: the status of either lists both nodes and marks itself.
     */
    public function testStatusListsTheClusterNodes(): void
    {
        $redisPort = Paths::freePort();
        $args = ['--port', (string) $redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
        $redis = new Process(['redis-server', ...$args]);
        $redis->waitFor('Ready to accept connections');
        $config = [
            'databaseConfig' => ['redis' => ['host' => '127.0.0.1', 'port' => $redisPort]],
            'cluster' => ['enabled' => true],
        ];
        $a = new EchoServer($config, true);
        $b = new EchoServer($config, true);
        $id = static fn (EchoServer $s): string => json_decode(
            (string) file_get_contents("$s->url/health"),
            true,
        )['cluster']['node'];
        // A node counts once it has beaten (every second); wait for both to be listed.
        $deadline = microtime(true) + 10;
        do {
            $p = $this->artisanProcess(['rust-echo:status', "--url=$a->url"], false);
            $this->assertSame(0, $p->wait(), $p->errors());
            $out = $p->output();
            $both = str_contains($out, $id($a)) && str_contains($out, $id($b));
            $this->assertLessThan($deadline, microtime(true), $out);
        } while (! $both && usleep(50_000) === null);
        $this->assertMatchesRegularExpression('#\| ' . preg_quote($id($a), '#') . ' +\| this server +\|#', $out);
        $this->assertMatchesRegularExpression('#\| ' . preg_quote($id($b), '#') . ' +\| +\|#', $out);
        unset($a, $b);
    }

    public function testStatusOfAnUnreachableServerFails(): void
    {
        $port = Paths::freePort();
        $p = $this->artisanProcess(['rust-echo:status', "--url=http://127.0.0.1:$port"], false);
        $this->assertSame(1, $p->wait());
        $expected = "The rust-echo server at http://127.0.0.1:$port is not reachable.";
        $this->assertStringContainsString($expected, $p->errors() . $p->output());
    }
}
