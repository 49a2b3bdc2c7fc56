<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\BroadcastManager;
use RustEcho\Server;
use RustEcho\Tests\Laravel\Fixtures\OrderShipped;
use RustEcho\Tests\Laravel\Fixtures\QueuedPing;
use RustEcho\Tests\Support\EchoServer;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * Laravel events reaching a real laravel-echo client through each transport of the `rust` driver.
 */
final class BroadcastTest extends TestCase
{
    private const ORDER_SHIPPED = 'RustEcho\\Tests\\Laravel\\Fixtures\\OrderShipped';

    protected function tearDown(): void
    {
        putenv('REDIS_PORT');
        if (function_exists('RustEcho\publish')) {
            Server::stop();
            ini_restore('rust_echo.ring');
        }
        parent::tearDown();
    }

    /**
     * Reboot the app with Laravel's Redis on $port (its manager reads settings at boot).
     */
    private function useRedisPort(int $port): void
    {
        putenv("REDIS_PORT=$port");
        $this->refreshApplication();
    }

    /**
     * Host a server in this process and return its URL.
     */
    private function startInProcess(): string
    {
        $port = Paths::freePort();
        Server::start([
            'host' => '127.0.0.1',
            'port' => $port,
            'clients' => [['appId' => 'app', 'key' => 'secret']],
            'subscribers' => ['redis' => false],
        ]);

        return "http://127.0.0.1:$port";
    }

    /**
     * Start a redis-server on a free port.
     */
    private function startRedis(): array
    {
        $port = Paths::freePort();
        $args = ['--port', (string) $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
        $redis = new Process(['redis-server', ...$args]);
        $redis->waitFor('Ready to accept connections');

        return [$redis, $port];
    }

    /**
     * @requires extension rust_echo
     */
    public function testNowAndQueuedEventsInProcess(): void
    {
        $url = $this->startInProcess();
        $orders = new Listener($url, ['orders'], self::ORDER_SHIPPED);
        $news = new Listener($url, ['news'], 'queued.ping');

        event(new OrderShipped(7));
        event(new QueuedPing('hello'));

        $this->assertSame(['id' => 7, 'total' => 99.5, 'socket' => null], $orders->take(1)[0]['data']);
        // QueuedPing has no InteractsWithSockets, so no `socket` key, exactly as with Redis.
        $this->assertSame(['text' => 'hello'], $news->take(1)[0]['data']);
        $this->assertSame(2, Server::stats()['messages_in']['memory'], 'one publish per event, for all its channels');
    }

    /**
     * @requires extension rust_echo
     */
    public function testSharedMemoryWithRedisStopped(): void
    {
        $deadRedis = Paths::freePort();
        $server = new EchoServer([
            'databaseConfig' => ['redis' => ['port' => $deadRedis]],
            'subscribers' => ['redis' => true],
        ]);
        $listener = new Listener($server->url, ['orders'], self::ORDER_SHIPPED);
        $news = new Listener($server->url, ['news'], 'queued.ping');
        $this->useRedisPort($deadRedis);
        ini_set('rust_echo.ring', $server->ring);

        event(new OrderShipped(8));
        event(new QueuedPing('over shared memory'));

        $this->assertSame(['id' => 8, 'total' => 99.5, 'socket' => null], $listener->take(1)[0]['data']);
        $this->assertSame(['text' => 'over shared memory'], $news->take(1)[0]['data']);
    }

    public function testRedisPathIsByteForByteRedisBroadcaster(): void
    {
        [$redis, $redisPort] = $this->startRedis();
        $server = new EchoServer([
            'subscribers' => ['redis' => true],
            'databaseConfig' => ['redis' => ['port' => $redisPort, 'keyPrefix' => 'laravel_database_']],
            'shm' => ['enabled' => false],
        ], binary: true);
        $server->waitForRedis();
        $listener = new Listener($server->url, ['orders'], self::ORDER_SHIPPED);
        $news = new Listener($server->url, ['news'], 'queued.ping');
        $monitor = new Process(['redis-cli', '-p', (string) $redisPort, '--raw', 'psubscribe', '*']);
        $monitor->waitFor("psubscribe\n*\n1\n");

        $script = dirname(__DIR__) . '/bin/laravel_broadcast.php';
        foreach (['redis' => 1, 'rust' => 1] as $connection => $id) {
            // No -d extension: this PHP process has only Redis.
            $p = new Process([PHP_BINARY, $script, $connection, (string) $redisPort, (string) $id]);
            $this->assertSame(0, $p->wait(), $p->errors());
        }

        $events = $listener->take(2);
        $this->assertSame($events[0]['data'], $events[1]['data']);
        $this->assertSame([['text' => 'ping 1'], ['text' => 'ping 1']], array_column($news->take(2), 'data'));
        Wait::until(
            'six messages seen on Redis',
            static fn () => substr_count($monitor->output(), "pmessage\n") >= 6,
            $monitor->output(...),
        );
        $messages = array_chunk(explode("\n", trim(substr($monitor->output(), strlen("psubscribe\n*\n1\n")))), 4);
        $this->assertSame('laravel_database_orders', $messages[0][2]);
        $this->assertSame('laravel_database_private-orders.1', $messages[1][2]);
        $this->assertSame('laravel_database_news', $messages[2][2]);
        $same = 'the rust driver publishes what RedisBroadcaster publishes';
        $this->assertSame(array_slice($messages, 0, 3), array_slice($messages, 3, 3), $same);
        $this->assertSame('{"event":"queued.ping","data":{"text":"ping 1"},"socket":null}', $messages[2][3]);
        $this->assertSame(
            '{"event":"RustEcho\\\\Tests\\\\Laravel\\\\Fixtures\\\\OrderShipped",'
                . '"data":{"id":1,"total":99.5,"socket":null},"socket":null}',
            $messages[3][3],
        );
        unset($redis);
    }

    /**
     * @requires extension rust_echo
     */
    public function testToOthersExcludesTheSendersSocket(): void
    {
        $url = $this->startInProcess();
        $sender = new Listener($url, ['orders'], self::ORDER_SHIPPED);
        $other = new Listener($url, ['orders'], self::ORDER_SHIPPED);

        $this->post('/ship/3', [], ['X-Socket-ID' => $sender->socketId()])->assertSee('sent');

        $this->assertSame(['id' => 3, 'total' => 99.5, 'socket' => $sender->socketId()], $other->take(1)[0]['data']);
        // A marker for everyone, published the same way after it: the first event the sender
        // sees is the marker, so the one before it never reached the sender.
        $this->post('/ship/4')->assertSee('sent');
        $this->assertSame(4, $sender->take(1)[0]['data']['id']);
        $this->assertSame([3, 4], array_column(array_column($other->take(2), 'data'), 'id'));
    }

    /**
     * @requires extension rust_echo
     */
    public function testExtensionTransportWithoutServerThrows(): void
    {
        ini_set('rust_echo.ring', 'rust-echo-nobody-' . getmypid());
        config(['broadcasting.connections.ext' => ['driver' => 'rust', 'transport' => 'extension']]);
        $this->expectException(BroadcastException::class);
        $this->expectExceptionMessage('No rust-echo server is reachable from this process');
        $this->app->make(BroadcastManager::class)->connection('ext')->broadcast(['orders'], 'E', ['a' => 1]);
    }

    public function testRedisDownWithRedisTransportThrows(): void
    {
        $this->useRedisPort(Paths::freePort());
        $connection = ['driver' => 'rust', 'transport' => 'redis', 'connection' => 'default'];
        config(['broadcasting.connections.redis-only' => $connection]);
        try {
            $this->app->make(BroadcastManager::class)->connection('redis-only')->broadcast(['orders'], 'E', ['a' => 1]);
            $this->fail('no exception');
        } catch (BroadcastException $e) {
            $this->assertStringStartsWith('Redis error: ', $e->getMessage());
            $this->assertNotNull($e->getPrevious());
        }
    }

    /**
     * @requires extension rust_echo
     */
    public function testLongLivedWorkerKeepsNoStateBetweenRequests(): void
    {
        $url = $this->startInProcess();
        $listener = new Listener($url, ['orders'], self::ORDER_SHIPPED);
        for ($i = 0; $i < 50; $i++) {
            $headers = $i % 2 === 0 ? ['X-Socket-ID' => "not-connected-$i"] : [];
            $this->post("/ship/$i", [], $headers)->assertSee('sent');
        }
        $events = $listener->take(50);
        foreach ($events as $i => $event) {
            $this->assertSame($i, $event['data']['id']);
            $this->assertSame($i % 2 === 0 ? "not-connected-$i" : null, $event['data']['socket'], "request $i");
        }
    }
}
