<?php

namespace RustEcho\Laravel\Console;

use Illuminate\Console\Command;

class StatusCommand extends Command
{
    /**
     * The name and signature of the console command.
     *
     * @var string
     */
    protected $signature = 'rust-echo:status
        {--url= : The server\'s base URL (default: from config/rust-echo.php)}';

    /**
     * The console command description.
     *
     * @var string
     */
    protected $description = 'Show connections, channels and uptime of the running rust-echo server';

    /**
     * Execute the console command.
     */
    public function handle(): int
    {
        $config = $this->laravel['config']->get('rust-echo', []);
        $host = $config['host'] ?? '127.0.0.1';
        $url = rtrim((string) ($this->option('url') ?: sprintf(
            'http://%s:%d',
            in_array($host, ['0.0.0.0', '::', ''], true) ? '127.0.0.1' : $host,
            $config['port'] ?? 6001,
        )), '/');
        $client = collect($config['clients'] ?? [])->first(fn ($c) => ! empty($c['appId']) && ! empty($c['key']));
        if ($client === null) {
            $this->error(
                'No API client configured: set RUST_ECHO_APP_ID and RUST_ECHO_APP_KEY (config/rust-echo.php "clients").'
            );

            return self::FAILURE;
        }

        $status = $this->get("$url/apps/{$client['appId']}/status", $client['key']);
        $channels = $this->get("$url/apps/{$client['appId']}/channels", $client['key']);
        if ($status === null || $channels === null) {
            $this->error("The rust-echo server at $url is not reachable.");

            return self::FAILURE;
        }

        $this->table(['Server', 'Connections', 'Channels', 'Uptime'], [[
            $url,
            $status['subscription_count'] ?? 0,
            count($channels['channels'] ?? []),
            $this->uptime((float) ($status['uptime'] ?? 0)),
        ]]);

        if (isset($status['cluster']['node'])) {
            $this->clusterTable($status['cluster']);
        }

        $rows = [];
        foreach ($channels['channels'] ?? [] as $name => $info) {
            $rows[] = [$name, $info['subscription_count'] ?? 0];
        }
        if ($rows !== []) {
            $this->table(['Channel', 'Subscriptions'], $rows);
        }

        return self::SUCCESS;
    }

    /**
     * List the cluster's live nodes, marking the one that answered. The channels above are the
     * whole cluster's; the connections are this server's.
     *
     * @param  array<string, mixed>  $cluster
     */
    protected function clusterTable(array $cluster): void
    {
        $nodes = $cluster['nodes'] ?? null;
        if (! is_array($nodes)) {
            $this->warn('Cluster node ' . $cluster['node'] . ': the cluster\'s Redis does not answer.');

            return;
        }
        $this->table(['Cluster node', ''], array_map(
            static fn ($id) => [$id, $id === $cluster['node'] ? 'this server' : ''],
            $nodes,
        ));
    }

    /**
     * GET a JSON document from the HTTP API, or null when the server does not answer it.
     *
     * @return array<string, mixed>|null
     */
    protected function get(string $url, string $key): ?array
    {
        $context = stream_context_create(['http' => [
            'timeout' => 3,
            'ignore_errors' => true,
            'header' => "Authorization: Bearer $key\r\n",
        ]]);
        $body = @file_get_contents($url, false, $context);
        if ($body === false || ! str_contains($http_response_header[0] ?? '', ' 200')) {
            return null;
        }
        $json = json_decode($body, true);

        return is_array($json) ? $json : null;
    }

    /**
     * Format seconds as 1d 2h 3m 4s.
     */
    protected function uptime(float $seconds): string
    {
        $s = (int) $seconds;
        $parts = [
            'd' => intdiv($s, 86400),
            'h' => intdiv($s % 86400, 3600),
            'm' => intdiv($s % 3600, 60),
            's' => $s % 60,
        ];
        $out = '';
        foreach ($parts as $unit => $n) {
            if ($n > 0 || ($unit === 's' && $out === '')) {
                $out .= "$n$unit ";
            }
        }

        return rtrim($out);
    }
}
