<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Exception\ConfigException;
use RustEcho\Exception\PublishException;
use RustEcho\Exception\RustEchoException;
use RustEcho\Exception\ServerException;
use RustEcho\Server;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * The extension's PHP API: classes, exceptions and messages, start/stop/running/stats.
 *
 * @requires extension rust_echo
 */
final class ApiTest extends TestCase
{
    protected function tearDown(): void
    {
        Server::stop();
        ini_restore('rust_echo.ring');
    }

    public function testModuleAndExceptionHierarchy(): void
    {
        $this->assertTrue(extension_loaded('rust_echo'));
        $this->assertTrue(is_subclass_of(RustEchoException::class, \RuntimeException::class));
        foreach ([ServerException::class, ConfigException::class, PublishException::class] as $class) {
            $this->assertTrue(is_subclass_of($class, RustEchoException::class), $class);
        }
        $this->assertTrue((new \ReflectionClass(Server::class))->isFinal());
        $this->assertTrue(function_exists('RustEcho\publish'));
    }

    public function testPhpRiShowsVersionAndTransports(): void
    {
        $p = new Process([PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '--ri', 'rust_echo']);
        $this->assertSame(0, $p->wait());
        $this->assertStringContainsString('rust_echo support => enabled', $p->output());
        $this->assertStringContainsString('version => 0.1.0', $p->output());
        $transports = 'transports => memory (in-process), shm (shared-memory ring)';
        $this->assertStringContainsString($transports, $p->output());
        $this->assertStringContainsString('server in this process => no', $p->output());
    }

    /**
     * @return array<string, array{0: array<mixed>, 1: string, 2: string, 3: string}>
     */
    public static function invalidPublishes(): array
    {
        $channels = 'channels must be a non-empty array of non-empty strings';
        $json = 'data is not valid JSON:';

        return [
            'no channels' => [[], 'E', '1', $channels],
            'empty channel' => [[''], 'E', '1', $channels],
            'non-string channel' => [[5], 'E', '1', $channels],
            'nested channel' => [[['a']], 'E', '1', $channels],
            'empty event' => [['a'], '', '1', 'the event name must not be empty'],
            'invalid JSON' => [['a'], 'E', '{"a":', "$json EOF while parsing a value at line 1 column 5"],
            'text is not JSON' => [['a'], 'E', 'hello', "$json expected value at line 1 column 1"],
        ];
    }

    /**
     * @dataProvider invalidPublishes
     * @param array<mixed> $channels
     */
    public function testInvalidPublishArguments(array $channels, string $event, string $data, string $message): void
    {
        $this->expectException(PublishException::class);
        $this->expectExceptionMessage($message);
        \RustEcho\publish($channels, $event, $data);
    }

    public function testPublishWithoutAnyServerIsFalse(): void
    {
        ini_set('rust_echo.ring', 'rust-echo-nobody-' . getmypid());
        $this->assertFalse(\RustEcho\publish(['a'], 'E', '1'));
    }

    public function testInvalidRingNameIsAConfigError(): void
    {
        ini_set('rust_echo.ring', '../etc/passwd');
        $this->expectException(ConfigException::class);
        $this->expectExceptionMessage('invalid value for `rust_echo.ring`: "../etc/passwd"');
        \RustEcho\publish(['a'], 'E', '1');
    }

    /**
     * @return array<string, array{0: array<string, mixed>, 1: string}>
     */
    public static function invalidConfigs(): array
    {
        $in = 'in RustEcho\Server::start() config';

        return [
            'port' => [['port' => 'x'], "invalid value for `port` $in: expected a port number (0-65535)"],
            'nested key' => [
                ['databaseConfig' => ['redis' => ['port' => []]]],
                "invalid value for `databaseConfig.redis.port` $in",
            ],
            'authHost' => [['authHost' => 5], "invalid value for `authHost` $in: expected a URL or an array of URLs"],
            'shm mode' => [['shm' => ['mode' => 'rw']], "invalid value for `shm.mode` $in"],
            'protocol' => [['protocol' => 'ftp'], "invalid value for `protocol` $in: expected \"http\" or \"https\""],
        ];
    }

    /**
     * @dataProvider invalidConfigs
     * @param array<string, mixed> $config
     */
    public function testInvalidConfigNamesTheKey(array $config, string $message): void
    {
        try {
            Server::start($config + ['host' => '127.0.0.1', 'port' => 0]);
            $this->fail('no exception');
        } catch (ConfigException $e) {
            $this->assertStringStartsWith($message, $e->getMessage());
        }
        $this->assertFalse(Server::running());
    }

    public function testPortInUseIsAServerException(): void
    {
        $port = Paths::freePort();
        $busy = stream_socket_server("tcp://127.0.0.1:$port");
        $this->expectException(ServerException::class);
        $this->expectExceptionMessage("could not listen on 127.0.0.1:$port: Address already in use");
        try {
            Server::start(['host' => '127.0.0.1', 'port' => $port]);
        } finally {
            fclose($busy);
        }
    }

    public function testStartTwiceStopThenStart(): void
    {
        $port = Paths::freePort();
        Server::start(['host' => '127.0.0.1', 'port' => $port, 'subscribers' => ['redis' => false]]);
        Server::start(['host' => '127.0.0.1', 'port' => Paths::freePort()]);
        $this->assertTrue(Server::running());
        $stats = Server::stats();
        $this->assertSame($port, $stats['port'], 'the second start() kept the running server');
        $this->assertSame('OK', file_get_contents("http://127.0.0.1:$port/"));

        Server::stop();
        $this->assertFalse(Server::running());
        $this->assertFalse(@file_get_contents("http://127.0.0.1:$port/"));
        Server::stop();

        Server::start(['host' => '127.0.0.1', 'port' => $port, 'subscribers' => ['redis' => false]]);
        $this->assertTrue(Server::running());
        $this->assertSame('OK', file_get_contents("http://127.0.0.1:$port/"));
    }

    public function testStatsShape(): void
    {
        $port = Paths::freePort();
        Server::start(['host' => '127.0.0.1', 'port' => $port, 'subscribers' => ['redis' => false]]);
        $this->assertSame('memory', \RustEcho\publish(['a', 'b'], 'E', '{"x":1}'));
        // Delivery runs on the server's threads: wait until both channels of the publish are done.
        $stats = Wait::until(
            'the publish to be delivered to both channels',
            static fn () => Server::stats()['messages_delivered'] >= 2 ? Server::stats() : null,
            static fn () => json_encode(Server::stats()),
        );
        $this->assertTrue($stats['running']);
        $this->assertSame(getmypid(), $stats['pid']);
        $this->assertSame("127.0.0.1:$port", $stats['address']);
        $this->assertSame(0, $stats['connections']);
        $this->assertSame(0, $stats['channels']);
        $this->assertSame(['http' => 0, 'memory' => 1, 'redis' => 0, 'shm' => 0], $stats['messages_in']);
        $this->assertSame(2, $stats['messages_delivered']);
        $this->assertFalse($stats['redis_connected']);
        $this->assertSame("rust-echo-$port", $stats['ring']['name']);
        $this->assertSame(16 * 1024 * 1024, $stats['ring']['capacity']);
        $this->assertSame(0, $stats['ring']['used']);
    }

    public function testPhpinfoNamesTheServerOfThisProcess(): void
    {
        $port = Paths::freePort();
        Server::start(['host' => '127.0.0.1', 'port' => $port, 'subscribers' => ['redis' => false]]);
        ob_start();
        phpinfo(INFO_MODULES);
        $info = (string) ob_get_clean();
        $this->assertStringContainsString("server in this process => yes, 127.0.0.1:$port", $info);
    }

    public function testServeBlocksUntilSigtermThenShutsDownGracefully(): void
    {
        $port = Paths::freePort();
        $config = json_encode(['host' => '127.0.0.1', 'port' => $port, 'subscribers' => ['redis' => false]]);
        $script = 'RustEcho\Server::serve(json_decode($argv[1], true)); echo "serve returned\n";';
        $p = new Process([PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '-r', $script, $config]);
        Wait::until(
            'the server to answer',
            static fn () => @file_get_contents("http://127.0.0.1:$port/") === 'OK',
            $p->errors(...),
        );
        $this->assertFileExists("/dev/shm/rust-echo-$port");
        // serve() has not returned: the script would print "serve returned" and end, taking the
        // server with it. Another request answered now is answered by the serving call.
        $health = json_decode((string) file_get_contents("http://127.0.0.1:$port/health"), true);
        $this->assertSame('ok', $health['status']);
        $this->assertSame('', $p->output(), 'serve() blocks');
        $this->assertTrue($p->running(), 'serve() blocks');
        $p->signal(SIGTERM);
        $this->assertSame(0, $p->wait(10));
        $this->assertSame("serve returned\n", $p->output());
        $this->assertFileDoesNotExist("/dev/shm/rust-echo-$port");
        $this->assertFalse(@file_get_contents("http://127.0.0.1:$port/"));
    }

    public function testStatsWithoutServer(): void
    {
        $this->expectException(ServerException::class);
        $this->expectExceptionMessage('no server runs in this process');
        Server::stats();
    }
}
