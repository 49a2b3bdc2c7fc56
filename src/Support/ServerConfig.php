<?php

namespace RustEcho\Laravel\Support;

use Illuminate\Contracts\Config\Repository;

/**
 * Turns config/rust-echo.php (and Laravel's own Redis settings) into the server's
 * laravel-echo-server.json keys.
 */
class ServerConfig
{
    /**
     * Build the server configuration.
     *
     * @return array<string, mixed>
     */
    public static function fromLaravel(Repository $config): array
    {
        $c = (array) $config->get('rust-echo', []);
        $server = [
            'host' => $c['host'] ?? '127.0.0.1',
            'port' => (int) ($c['port'] ?? 6001),
            'devMode' => (bool) ($c['dev_mode'] ?? false),
            'authHost' => $c['auth']['host'] ?? $config->get('app.url', 'http://localhost'),
            'authEndpoint' => $c['auth']['endpoint'] ?? '/broadcasting/auth',
            'authTimeout' => (int) ($c['auth']['timeout'] ?? 10000),
            'clients' => array_values(array_filter(
                (array) ($c['clients'] ?? []),
                static fn ($client) => ! empty($client['appId']) && ! empty($client['key']),
            )),
            'socketio' => [
                'path' => $c['path'] ?? '/socket.io',
                'maxHttpBufferSize' => (int) ($c['limits']['max_payload'] ?? 100000),
            ],
            'maxChannelsPerSocket' => (int) ($c['limits']['max_channels_per_socket'] ?? 1000),
            'maxBufferedPackets' => (int) ($c['limits']['max_buffered_packets'] ?? 4096),
            'maxConnections' => (int) ($c['limits']['max_connections'] ?? 100000),
            'maxConcurrentAuth' => (int) ($c['limits']['max_concurrent_auth'] ?? 100),
            'clientEventsPerSecond' => (int) ($c['limits']['client_events_per_second'] ?? 10),
            'clientEventBurst' => (int) ($c['limits']['client_event_burst'] ?? 20),
            'metrics' => [
                'enabled' => (bool) ($c['metrics']['enabled'] ?? true),
                'host' => (string) ($c['metrics']['host'] ?? '127.0.0.1'),
                'port' => (int) ($c['metrics']['port'] ?? 9601),
            ],
            'subscribers' => ['http' => true, 'redis' => (bool) ($c['redis']['enabled'] ?? true)],
            'databaseConfig' => ['redis' => self::redis($config, (string) ($c['redis']['connection'] ?? 'default'))],
            'shm' => array_filter([
                'enabled' => (bool) ($c['shm']['enabled'] ?? true),
                'name' => $c['shm']['name'] ?? null,
                'size' => (int) ($c['shm']['size'] ?? 16777216),
                'mode' => (string) ($c['shm']['mode'] ?? '0600'),
            ], static fn ($v) => $v !== null),
        ];

        if (! empty($c['tls']['cert'])) {
            $server['protocol'] = 'https';
            $server['sslCertPath'] = $c['tls']['cert'];
            $server['sslKeyPath'] = $c['tls']['key'] ?? '';
            $server['sslCertChainPath'] = $c['tls']['chain'] ?? '';
            $server['sslPassphrase'] = $c['tls']['passphrase'] ?? '';
        }

        if (! empty($c['allowed_origins'])) {
            $server['allowedOrigins'] = array_values((array) $c['allowed_origins']);
        }

        return $server;
    }

    /**
     * Get the ring a server with this configuration creates.
     *
     * @param  array<string, mixed>  $server
     */
    public static function ringName(array $server): string
    {
        return (string) ($server['shm']['name'] ?? 'rust-echo-' . ($server['port'] ?? 6001));
    }

    /**
     * Get the Redis subscriber settings from Laravel's database.redis connection and prefix.
     *
     * @return array<string, mixed>
     */
    protected static function redis(Repository $config, string $connection): array
    {
        $redis = (array) $config->get("database.redis.$connection", []);
        if (! empty($redis['url']) && is_array($url = parse_url((string) $redis['url']))) {
            $redis += [
                'host' => $url['host'] ?? null,
                'port' => $url['port'] ?? null,
                'password' => isset($url['pass']) ? urldecode($url['pass']) : null,
                'username' => isset($url['user']) ? urldecode($url['user']) : null,
                'database' => isset($url['path']) ? (int) ltrim($url['path'], '/') : null,
            ];
        }

        return array_filter([
            'host' => $redis['host'] ?? '127.0.0.1',
            'port' => (int) ($redis['port'] ?? 6379),
            'password' => $redis['password'] ?? null,
            'username' => $redis['username'] ?? null,
            'db' => (int) ($redis['database'] ?? 0),
            'keyPrefix' => (string) $config->get('database.redis.options.prefix', ''),
        ], static fn ($v) => $v !== null && $v !== '');
    }
}
