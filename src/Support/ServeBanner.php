<?php

namespace RustEcho\Laravel\Support;

/**
 * The lines `rust-echo:serve` prints before the server starts: where it listens and which
 * transports reach it. It shows what the configuration sets; what it leaves to the server's
 * defaults is named as such rather than guessed.
 */
class ServeBanner
{
    /**
     * @param  array<string, mixed>  $config  the server configuration (laravel-echo-server keys)
     */
    public function __construct(protected array $config)
    {
    }

    /**
     * Get the banner lines.
     *
     * @return list<string>
     */
    public function lines(string $how): array
    {
        $c = $this->config;
        $scheme = ($c['protocol'] ?? 'http') === 'https' ? 'https' : 'http';
        $where = isset($c['host'])
            ? sprintf('%s://%s:%s', $scheme, $c['host'], $c['port'] ?? '(default port)')
            : sprintf('%s, all interfaces, port %s', $scheme, $c['port'] ?? '(default)');
        $path = isset($c['socketio']['path']) ? " (Socket.IO path {$c['socketio']['path']})" : '';
        $authHost = $c['authHost'] ?? '(default host)';
        $authHost = is_array($authHost) ? implode(' | ', $authHost) : $authHost;

        $lines = [
            "rust-echo on $where$path, run by $how",
            '  Transports: ' . implode(', ', $this->transports()),
            isset($c['authEndpoint'])
                ? '  Auth endpoint: ' . $authHost . $c['authEndpoint']
                : '  Auth host: ' . $authHost,
        ];
        foreach ((array) ($c['apps'] ?? []) as $app) {
            $port = isset($c['pusherPort']) ? " (also on port {$c['pusherPort']})" : '';
            $lines[] = "  Pusher protocol: app {$app['id']} at /app/{$app['key']}$port";
        }

        return $lines;
    }

    /**
     * Get the transports that reach the server, as the configuration switches them.
     *
     * @return list<string>
     */
    protected function transports(): array
    {
        $c = $this->config;
        $transports = [];
        if (Runtime::hasExtension()) {
            $transports[] = 'in-process';
        }
        if (self::on($c['shm']['enabled'] ?? null)) {
            $ring = ServerConfig::ringName($c);
            $transports[] = 'shared-memory ring' . ($ring === null ? '' : " $ring");
        }
        if (self::on($c['subscribers']['redis'] ?? null)) {
            $redis = $c['databaseConfig']['redis'] ?? [];
            $at = isset($redis['host']) || isset($redis['port'])
                ? sprintf(' %s:%s', $redis['host'] ?? 'default host', $redis['port'] ?? 'default port')
                : '';
            $transports[] = sprintf('Redis%s (prefix "%s")', $at, $redis['keyPrefix'] ?? '');
        }
        if (self::on($c['subscribers']['http'] ?? null)) {
            $transports[] = 'HTTP API';
        }

        return $transports;
    }

    /**
     * Whether a switch is on: every transport is on unless the configuration turns it off.
     */
    protected static function on(mixed $value): bool
    {
        return $value === null || filter_var($value, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE) !== false;
    }
}
