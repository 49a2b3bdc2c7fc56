<?php

namespace RustEcho\Laravel\Console;

use Illuminate\Console\Command;
use RustEcho\Laravel\Support\Runtime;
use RustEcho\Laravel\Support\ServerConfig;
use Throwable;

class ServeCommand extends Command
{
    /**
     * The name and signature of the console command.
     *
     * @var string
     */
    protected $signature = 'rust-echo:serve
        {--host= : The IP address the server should bind to}
        {--port= : The port the server should listen on}
        {--dev : Log joins, leaves, auth results and messages}
        {--config= : A laravel-echo-server.json to use instead of config/rust-echo.php}';

    /**
     * The console command description.
     *
     * @var string
     */
    protected $description = 'Run the rust-echo broadcasting server';

    /**
     * Execute the console command.
     */
    public function handle(): int
    {
        $config = $this->serverConfig();
        if ($config === null) {
            return self::FAILURE;
        }

        if (Runtime::hasExtension()) {
            $this->banner($config, 'the rust_echo extension, in this process');

            try {
                \RustEcho\Server::serve($config);
            } catch (Throwable $e) {
                $this->error(get_class($e) . ': ' . $e->getMessage());

                return self::FAILURE;
            }
            $this->info('rust-echo stopped.');

            return self::SUCCESS;
        }

        $binary = $this->binary();
        if ($binary === null) {
            $this->error('rust-echo needs the rust_echo PHP extension or the rust-echo binary, and neither was found.');
            $this->line('  Extension: cargo build --release -p rust_echo,');
            $this->line('             then extension=librust_echo.so in php.ini (docs/extension.md).');
            $this->line('  Binary: cargo build --release -p rust-echo-server,');
            $this->line('          then put target/release/rust-echo on PATH,');
            $this->line('          or set RUST_ECHO_BINARY to its path.');

            return self::FAILURE;
        }

        $this->banner($config, "the rust-echo binary ($binary)");

        return $this->runBinary($binary, $config);
    }

    /**
     * Build the server configuration from the options and config files.
     *
     * @return array<string, mixed>|null
     */
    protected function serverConfig(): ?array
    {
        if ($file = $this->option('config')) {
            $json = is_readable($file) ? json_decode((string) file_get_contents($file), true) : null;
            if (! is_array($json)) {
                $this->error("The config file [$file] could not be read as JSON.");

                return null;
            }
            $config = $json;
        } else {
            $config = ServerConfig::fromLaravel($this->laravel['config']);
        }

        if ($host = $this->option('host')) {
            $config['host'] = $host;
        }
        if ($port = $this->option('port')) {
            $config['port'] = (int) $port;
        }
        if ($this->option('dev')) {
            $config['devMode'] = true;
        }

        return $config;
    }

    /**
     * Print where the server listens and which transports reach it.
     *
     * @param  array<string, mixed>  $config
     */
    protected function banner(array $config, string $how): void
    {
        $scheme = ($config['protocol'] ?? 'http') === 'https' ? 'https' : 'http';
        $host = $config['host'] ?? '0.0.0.0';
        $port = $config['port'] ?? 6001;
        $path = $config['socketio']['path'] ?? '/socket.io';
        $this->info("rust-echo on $scheme://$host:$port (Socket.IO path $path), run by $how");

        $transports = [];
        if (Runtime::hasExtension()) {
            $transports[] = 'in-process';
        }
        if ($config['shm']['enabled'] ?? true) {
            $transports[] = 'shared-memory ring ' . ServerConfig::ringName($config);
        }
        if ($config['subscribers']['redis'] ?? true) {
            $redis = $config['databaseConfig']['redis'] ?? [];
            $prefix = $redis['keyPrefix'] ?? '';
            $transports[] = sprintf(
                'Redis %s:%s (prefix "%s")',
                $redis['host'] ?? '127.0.0.1',
                $redis['port'] ?? 6379,
                $prefix,
            );
        }
        if ($config['subscribers']['http'] ?? true) {
            $transports[] = 'HTTP API';
        }
        $this->line('  Transports: ' . implode(', ', $transports));
        $authHost = $config['authHost'] ?? '';
        $authHost = is_array($authHost) ? implode(' | ', $authHost) : $authHost;
        $this->line('  Auth endpoint: ' . $authHost . ($config['authEndpoint'] ?? '/broadcasting/auth'));
    }

    /**
     * Find the rust-echo binary: the configured path, else on PATH.
     */
    protected function binary(): ?string
    {
        $configured = (string) $this->laravel['config']->get('rust-echo.binary', 'rust-echo');
        if (str_contains($configured, '/')) {
            return is_executable($configured) ? $configured : null;
        }
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("$dir/$configured")) {
                return "$dir/$configured";
            }
        }

        return null;
    }

    /**
     * Run the binary with the configuration, passing SIGINT, SIGTERM and SIGHUP on to it.
     *
     * @param  array<string, mixed>  $config
     */
    protected function runBinary(string $binary, array $config): int
    {
        $dir = sys_get_temp_dir() . '/rust-echo-' . getmypid();
        @mkdir($dir, 0700, true);
        $file = "$dir/laravel-echo-server.json";
        file_put_contents($file, json_encode($config, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));

        // The file is the whole configuration: keep the app's RUST_ECHO_* / LARAVEL_ECHO_SERVER_*
        // variables and its .env (the binary reads both) from overriding it.
        $env = array_filter(
            getenv(),
            static fn (string $name) => ! str_starts_with($name, 'RUST_ECHO_')
                && ! str_starts_with($name, 'LARAVEL_ECHO_SERVER_'),
            ARRAY_FILTER_USE_KEY,
        );
        $process = proc_open([$binary, 'start', '--config', $file], [STDIN, STDOUT, STDERR], $pipes, $dir, $env);
        if (! is_resource($process)) {
            $this->error("Could not run $binary.");

            return self::FAILURE;
        }

        if (function_exists('pcntl_signal')) {
            pcntl_async_signals(true);
            foreach ([SIGINT, SIGTERM, SIGHUP] as $signal) {
                pcntl_signal($signal, static fn (int $sig) => proc_terminate($process, $sig));
            }
        }

        do {
            $status = proc_get_status($process);
            usleep(50_000);
        } while ($status['running']);
        proc_close($process);
        @unlink($file);
        @rmdir($dir);

        return $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
    }
}
