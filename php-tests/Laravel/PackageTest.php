<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Contracts\Console\Kernel;
use Illuminate\Support\Facades\Artisan;
use RustEcho\Laravel\Broadcasting\RustBroadcaster;
use RustEcho\Laravel\Support\ServerConfig;

/**
 * The package in a real Laravel app: driver, config merge and publishing, commands.
 */
final class PackageTest extends TestCase
{
    public function testRustDriverResolves(): void
    {
        $driver = $this->app->make(BroadcastManager::class)->connection('rust');
        $this->assertInstanceOf(RustBroadcaster::class, $driver);
        $this->assertSame('8.83.26', $this->app->version());
    }

    public function testUnknownTransportIsRefused(): void
    {
        $odd = ['driver' => 'rust', 'transport' => 'carrier-pigeon'];
        $this->app['config']->set('broadcasting.connections.odd', $odd);
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('Unknown rust-echo transport [carrier-pigeon]; use auto, extension or redis.');
        $this->app->make(BroadcastManager::class)->connection('odd');
    }

    public function testConfigIsMergedAndMapsToServerKeys(): void
    {
        $this->assertSame(6001, config('rust-echo.port'));
        $this->assertNull(config('rust-echo.auth.host'));
        config(['rust-echo.clients' => [['appId' => 'a', 'key' => 'k'], ['appId' => 'b', 'key' => '']]]);
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame('http://127.0.0.1:8000', $server['authHost']);
        $this->assertSame([['appId' => 'a', 'key' => 'k']], $server['clients']);
        $this->assertSame(
            ['host' => '127.0.0.1', 'port' => 6379, 'db' => 0, 'keyPrefix' => 'laravel_database_'],
            $server['databaseConfig']['redis'],
        );
        $this->assertSame('rust-echo-6001', ServerConfig::ringName($server));
        $this->assertArrayNotHasKey('protocol', $server);
        config([
            'rust-echo.tls.cert' => '/etc/c.pem',
            'rust-echo.tls.key' => '/etc/k.pem',
            'rust-echo.metrics.port' => 9700,
        ]);
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame('https', $server['protocol']);
        $this->assertSame(['/etc/c.pem', '/etc/k.pem'], [$server['sslCertPath'], $server['sslKeyPath']]);
        $this->assertSame(['port' => 9700], $server['metrics']);
    }

    /**
     * Pusher apps: Reverb's REVERB_APP_* make the default one; apps without a secret are left
     * out, and only the settings that are set are passed.
     */
    public function testPusherAppsMapToServerKeys(): void
    {
        $this->assertArrayNotHasKey('apps', ServerConfig::fromLaravel($this->app['config']));
        config(['rust-echo.pusher_port' => '8080']);
        $this->assertSame('8080', ServerConfig::fromLaravel($this->app['config'])['pusherPort']);
        config(['rust-echo.apps' => [
            ['id' => 1, 'key' => 'k', 'secret' => 's', 'ping_interval' => '30', 'capacity' => null],
            ['id' => 'x', 'key' => 'k2', 'secret' => ''],
            ['id' => 'y', 'key' => 'k3', 'secret' => 's3', 'allowed_origins' => ['*.example.com'],
                'accept_client_events_from' => 'all', 'rate_limiting' => ['enabled' => 'true', 'max_attempts' => '9']],
        ]]);
        $this->assertSame(
            [
                ['id' => '1', 'key' => 'k', 'secret' => 's', 'pingInterval' => '30'],
                ['id' => 'y', 'key' => 'k3', 'secret' => 's3', 'allowedOrigins' => ['*.example.com'],
                    'acceptClientEventsFrom' => 'all', 'rateLimiting' => ['enabled' => true, 'maxAttempts' => '9']],
            ],
            ServerConfig::fromLaravel($this->app['config'])['apps'],
        );
    }

    /**
     * The package passes only what its user set: the server owns every default, so the two cannot
     * drift apart.
     */
    public function testOnlySetValuesReachTheServer(): void
    {
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame(
            ['host', 'port', 'authHost', 'subscribers', 'databaseConfig'],
            array_keys($server),
        );

        config([
            'rust-echo.limits.max_connections' => '500',
            'rust-echo.metrics.enabled' => 'off',
            'rust-echo.shm.mode' => '0660',
            'rust-echo.dev_mode' => 'maybe',
            'rust-echo.trusted_proxies' => '10.0.0.0/8',
        ]);
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame('500', $server['maxConnections'], 'the server parses it by its type');
        $this->assertSame(['enabled' => false], $server['metrics']);
        $this->assertSame(['mode' => '0660'], $server['shm']);
        $this->assertSame('maybe', $server['devMode'], 'the server refuses it with its key');
        $this->assertSame('10.0.0.0/8', $server['trustedProxies']);
    }

    /**
     * The cluster switch and namespace reach the server; its Redis is another Laravel connection
     * only when one is named (else the server uses the subscriber's), without the key prefix.
     */
    public function testClusterMapsToServerKeys(): void
    {
        config([
            'rust-echo.cluster.enabled' => 'true',
            'rust-echo.cluster.namespace' => 'shop',
            'database.redis.options.prefix' => 'app_',
            'database.redis.backplane' => ['host' => '10.0.0.7', 'port' => '6380', 'database' => '2'],
        ]);
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame(['enabled' => true, 'namespace' => 'shop'], $server['cluster']);
        config(['rust-echo.cluster.connection' => 'backplane']);
        $server = ServerConfig::fromLaravel($this->app['config']);
        $this->assertSame(
            ['host' => '10.0.0.7', 'port' => '6380', 'db' => '2'],
            $server['cluster']['redis'],
        );
        config([
            'rust-echo.cluster.enabled' => null,
            'rust-echo.cluster.namespace' => null,
            'rust-echo.cluster.connection' => null,
        ]);
        $this->assertArrayNotHasKey('cluster', ServerConfig::fromLaravel($this->app['config']), 'off unless set');
    }

    /**
     * Unset, the Redis subscriber is on only where the app already runs on Redis: a Redis-free
     * app gets no Redis connection and so no Redis warnings.
     */
    public function testRedisSubscriberFollowsTheAppsUseOfRedis(): void
    {
        $redis = fn (): bool => ServerConfig::fromLaravel($this->app['config'])['subscribers']['redis'];
        config([
            'broadcasting.default' => 'rust',
            'broadcasting.connections.rust.transport' => 'auto',
            'broadcasting.connections.redis' => ['driver' => 'redis'],
            'queue.default' => 'sync',
            'queue.connections.redis' => ['driver' => 'redis'],
            'cache.default' => 'array',
            'cache.stores.redis' => ['driver' => 'redis'],
            'session.driver' => 'file',
        ]);
        $this->assertFalse($redis(), 'a Redis-free app');
        foreach (
            [
                ['broadcasting.connections.rust.transport' => 'redis'],
                ['broadcasting.default' => 'redis'],
                ['queue.default' => 'redis'],
                ['cache.default' => 'redis'],
                ['session.driver' => 'redis'],
            ] as $uses
        ) {
            $before = array_map(fn (string $key) => config($key), array_combine(array_keys($uses), array_keys($uses)));
            config($uses);
            $this->assertTrue($redis(), 'Redis in use: ' . json_encode($uses));
            config($before);
        }
        $this->assertFalse($redis());
        config(['rust-echo.redis.enabled' => 'true']);
        $this->assertTrue($redis(), 'asked for');
        config(['rust-echo.redis.enabled' => 'false', 'queue.default' => 'redis']);
        $this->assertFalse($redis(), 'refused');
    }

    /**
     * A connection Laravel defines as a Redis Cluster becomes the subscriber's cluster nodes;
     * a plain connection of the same name wins, as in Laravel's RedisManager.
     */
    public function testALaravelRedisClusterBecomesClusterNodes(): void
    {
        config([
            'rust-echo.redis.connection' => 'events',
            'database.redis.clusters.events' => [
                ['host' => '10.0.0.21', 'port' => 7000, 'password' => 'pw'],
                ['host' => '10.0.0.22', 'port' => '7001', 'password' => 'pw'],
            ],
        ]);
        $this->assertSame(
            ['clusterNodes' => ['10.0.0.21:7000', '10.0.0.22:7001'], 'password' => 'pw',
                'keyPrefix' => 'laravel_database_'],
            ServerConfig::fromLaravel($this->app['config'])['databaseConfig']['redis'],
        );
        // The cluster backplane on that Redis Cluster (`cluster.redis.clusterNodes`).
        config(['rust-echo.cluster.enabled' => 'true', 'rust-echo.cluster.connection' => 'events']);
        $this->assertSame(
            ['clusterNodes' => ['10.0.0.21:7000', '10.0.0.22:7001'], 'password' => 'pw'],
            ServerConfig::fromLaravel($this->app['config'])['cluster']['redis'],
        );
        config(['rust-echo.cluster.enabled' => null, 'rust-echo.cluster.connection' => null]);
        config(['database.redis.events' => ['host' => '10.0.0.9', 'port' => 6380]]);
        $this->assertSame(
            ['host' => '10.0.0.9', 'port' => 6380, 'keyPrefix' => 'laravel_database_'],
            ServerConfig::fromLaravel($this->app['config'])['databaseConfig']['redis'],
        );
    }

    public function testConfigCanBePublished(): void
    {
        $target = $this->app->configPath('rust-echo.php');
        @unlink($target);
        try {
            $this->assertSame(0, Artisan::call('vendor:publish', ['--tag' => 'rust-echo-config']));
            $this->assertFileEquals(dirname(__DIR__, 2) . '/config/rust-echo.php', $target);
        } finally {
            @unlink($target);
        }
    }

    public function testCommandsAreRegistered(): void
    {
        $commands = $this->app->make(Kernel::class)->all();
        $this->assertArrayHasKey('rust-echo:serve', $commands);
        $this->assertArrayHasKey('rust-echo:status', $commands);
    }
}
