<?php

namespace RustEcho\Laravel\Support;

use Illuminate\Contracts\Config\Repository;

/**
 * Turns config/rust-echo.php (and Laravel's own Redis settings) into the server's
 * laravel-echo-server.json keys. Only what is set is passed: the server owns every default and
 * parses each value by its key's type (a numeric string for a number key, and so on), so an
 * invalid value is reported by the server with its key.
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
        $limits = (array) ($c['limits'] ?? []);
        $metrics = (array) ($c['metrics'] ?? []);
        $shm = (array) ($c['shm'] ?? []);
        $cluster = (array) ($c['cluster'] ?? []);

        return self::present([
            'host' => $c['host'] ?? null,
            'port' => $c['port'] ?? null,
            'devMode' => self::flag($c['dev_mode'] ?? null),
            'authHost' => $c['auth']['host'] ?? $config->get('app.url'),
            'authEndpoint' => $c['auth']['endpoint'] ?? null,
            'authTimeout' => $c['auth']['timeout'] ?? null,
            'clients' => array_values(array_filter(
                (array) ($c['clients'] ?? []),
                static fn ($client) => ! empty($client['appId']) && ! empty($client['key']),
            )),
            'apps' => self::apps((array) ($c['apps'] ?? [])),
            'pusherPort' => $c['pusher_port'] ?? null,
            'socketio' => [
                'path' => $c['path'] ?? null,
                'maxHttpBufferSize' => $limits['max_payload'] ?? null,
            ],
            'maxChannelsPerSocket' => $limits['max_channels_per_socket'] ?? null,
            'maxBufferedPackets' => $limits['max_buffered_packets'] ?? null,
            'maxConnections' => $limits['max_connections'] ?? null,
            'maxConcurrentAuth' => $limits['max_concurrent_auth'] ?? null,
            'clientEventsPerSecond' => $limits['client_events_per_second'] ?? null,
            'clientEventBurst' => $limits['client_event_burst'] ?? null,
            'metrics' => [
                'enabled' => self::flag($metrics['enabled'] ?? null),
                'host' => $metrics['host'] ?? null,
                'port' => $metrics['port'] ?? null,
            ],
            'subscribers' => ['redis' => self::flag($c['redis']['enabled'] ?? null) ?? self::appUsesRedis($config)],
            'databaseConfig' => ['redis' => self::redis($config, (string) ($c['redis']['connection'] ?? 'default'))],
            'shm' => [
                'enabled' => self::flag($shm['enabled'] ?? null),
                'name' => $shm['name'] ?? null,
                'size' => $shm['size'] ?? null,
                'mode' => isset($shm['mode']) ? (string) $shm['mode'] : null,
            ],
            'cluster' => [
                'enabled' => self::flag($cluster['enabled'] ?? null),
                'namespace' => $cluster['namespace'] ?? null,
                'redis' => empty($cluster['connection'])
                    ? null
                    : array_diff_key(self::redis($config, (string) $cluster['connection']), ['keyPrefix' => 0]),
            ],
            'allowedOrigins' => $c['allowed_origins'] ?? null,
            'trustedProxies' => $c['trusted_proxies'] ?? null,
        ] + self::tls((array) ($c['tls'] ?? [])));
    }

    /**
     * Get the ring a server with this configuration creates: its `shm.name`, else the name the
     * engine derives from its port (asked of the extension, which names it as the server does).
     * Null when neither is known, or without the extension (nothing here publishes to a ring).
     *
     * @param  array<string, mixed>  $server
     */
    public static function ringName(array $server): ?string
    {
        if (isset($server['shm']['name'])) {
            return (string) $server['shm']['name'];
        }
        if (!isset($server['port']) || !function_exists('RustEcho\\ring_name')) {
            return null;
        }

        return \RustEcho\ring_name((int) $server['port']);
    }

    /**
     * Get the Pusher apps in the server's keys: those with an id, a key and a secret, each with
     * only the settings that are set.
     *
     * @param  array<int, mixed>  $apps
     * @return list<array<string, mixed>>
     */
    protected static function apps(array $apps): array
    {
        $out = [];
        foreach ($apps as $app) {
            $app = (array) $app;
            if (empty($app['id']) || empty($app['key']) || empty($app['secret'])) {
                continue;
            }
            $out[] = self::present([
                'id' => (string) $app['id'],
                'key' => (string) $app['key'],
                'secret' => (string) $app['secret'],
                'allowedOrigins' => $app['allowed_origins'] ?? null,
                'pingInterval' => $app['ping_interval'] ?? null,
                'activityTimeout' => $app['activity_timeout'] ?? null,
                'maxMessageSize' => $app['max_message_size'] ?? null,
                'capacity' => $app['capacity'] ?? null,
                'acceptClientEventsFrom' => $app['accept_client_events_from'] ?? null,
                'rateLimiting' => [
                    'enabled' => self::flag($app['rate_limiting']['enabled'] ?? null),
                    'maxAttempts' => $app['rate_limiting']['max_attempts'] ?? null,
                    'decaySeconds' => $app['rate_limiting']['decay_seconds'] ?? null,
                    'terminateOnLimit' => self::flag($app['rate_limiting']['terminate_on_limit'] ?? null),
                ],
            ]);
        }

        return $out;
    }

    /**
     * Get the TLS keys: `https` when a certificate is set.
     *
     * @param  array<string, mixed>  $tls
     * @return array<string, mixed>
     */
    protected static function tls(array $tls): array
    {
        if (empty($tls['cert'])) {
            return [];
        }

        return [
            'protocol' => 'https',
            'sslCertPath' => $tls['cert'],
            'sslKeyPath' => $tls['key'] ?? null,
            'sslCertChainPath' => $tls['chain'] ?? null,
            'sslPassphrase' => $tls['passphrase'] ?? null,
        ];
    }

    /**
     * Get the Redis subscriber settings from Laravel's database.redis connection and prefix.
     *
     * @return array<string, mixed>
     */
    protected static function redis(Repository $config, string $connection): array
    {
        $cluster = $config->get("database.redis.clusters.$connection");
        if (! $config->has("database.redis.$connection") && is_array($cluster) && $cluster !== []) {
            return self::redisCluster($config, array_values($cluster));
        }
        $redis = (array) $config->get("database.redis.$connection", []);
        if (! empty($redis['url']) && is_array($url = parse_url((string) $redis['url']))) {
            $redis += [
                'host' => $url['host'] ?? null,
                'port' => $url['port'] ?? null,
                'password' => isset($url['pass']) ? urldecode($url['pass']) : null,
                'username' => isset($url['user']) ? urldecode($url['user']) : null,
                'database' => isset($url['path']) ? ltrim($url['path'], '/') : null,
            ];
        }

        return [
            'host' => $redis['host'] ?? null,
            'port' => $redis['port'] ?? null,
            'password' => $redis['password'] ?? null,
            'username' => $redis['username'] ?? null,
            'db' => $redis['database'] ?? null,
            'keyPrefix' => $config->get('database.redis.options.prefix'),
        ];
    }

    /**
     * Get the subscriber settings for a connection Laravel defines as a Redis Cluster
     * (`database.redis.clusters.<name>`): its nodes, and the first node's credentials, as
     * Laravel's RedisManager resolves that name.
     *
     * @param  list<mixed>  $nodes
     * @return array<string, mixed>
     */
    protected static function redisCluster(Repository $config, array $nodes): array
    {
        $first = (array) $nodes[0];

        return [
            'clusterNodes' => array_map(
                static fn ($node) => ($node['host'] ?? '127.0.0.1') . ':' . ($node['port'] ?? 6379),
                array_map(static fn ($node) => (array) $node, $nodes),
            ),
            'password' => $first['password'] ?? null,
            'username' => $first['username'] ?? null,
            'keyPrefix' => $config->get('database.redis.options.prefix'),
        ];
    }

    /**
     * Whether the app already runs on Redis, so the server should listen there when
     * `rust-echo.redis.enabled` is unset: the default broadcaster is Laravel's `redis` driver or
     * the `rust` driver with transport `redis`, or the default queue, cache store or session
     * driver is Redis. A Redis-free app gets no Redis subscriber, and so no Redis warnings.
     */
    public static function appUsesRedis(Repository $config): bool
    {
        $broadcast = (array) $config->get('broadcasting.connections.' . $config->get('broadcasting.default'), []);
        $queue = (string) $config->get('queue.connections.' . $config->get('queue.default') . '.driver');
        $cache = (string) $config->get('cache.stores.' . $config->get('cache.default') . '.driver');

        return ($broadcast['driver'] ?? null) === 'redis'
            || (($broadcast['driver'] ?? null) === 'rust' && ($broadcast['transport'] ?? null) === 'redis')
            || in_array('redis', [$queue, $cache, (string) $config->get('session.driver')], true);
    }

    /**
     * Read a flag the way Laravel users write one in .env (true/false, 1/0, on/off, yes/no); a
     * value that is none of these goes to the server as it is, which refuses it by name.
     */
    protected static function flag(mixed $value): mixed
    {
        if ($value === null || is_bool($value)) {
            return $value;
        }

        return filter_var($value, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE) ?? $value;
    }

    /**
     * Drop the settings that are not set (null, '' or []), and the groups left empty.
     *
     * @param  array<string, mixed>  $values
     * @return array<string, mixed>
     */
    protected static function present(array $values): array
    {
        $out = [];
        foreach ($values as $key => $value) {
            if (is_array($value) && ! array_is_list($value)) {
                $value = self::present($value);
            }
            if ($value !== null && $value !== '' && $value !== []) {
                $out[$key] = $value;
            }
        }

        return $out;
    }
}
