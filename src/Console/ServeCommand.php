<?php

namespace RustEcho\Laravel\Console;

use Illuminate\Console\Command;
use RustEcho\Laravel\Support\BinaryServer;
use RustEcho\Laravel\Support\Runtime;
use RustEcho\Laravel\Support\ServeBanner;
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
     * Execute the console command: in this process with the extension, else with the binary.
     */
    public function handle(): int
    {
        $config = $this->serverConfig();
        if ($config === null) {
            return self::FAILURE;
        }

        if (Runtime::hasExtension()) {
            return $this->serveInProcess($config);
        }

        $binary = BinaryServer::find((string) $this->laravel['config']->get('rust-echo.binary', 'rust-echo'));
        if ($binary === null) {
            $this->error('rust-echo needs the rust_echo PHP extension or the rust-echo binary, and neither was found.');
            $this->line('  Extension: cargo build --release -p rust_echo,');
            $this->line('             then extension=librust_echo.so in php.ini (docs/extension.md).');
            $this->line('  Binary: cargo build --release -p rust-echo-server,');
            $this->line('          then put target/release/rust-echo on PATH,');
            $this->line('          or set RUST_ECHO_BINARY to its path.');

            return self::FAILURE;
        }

        $this->banner($config, 'the rust-echo binary (' . $binary->path() . ')');
        $code = $binary->run($config);
        if ($code === null) {
            $this->error('Could not run ' . $binary->path() . '.');

            return self::FAILURE;
        }

        return $code;
    }

    /**
     * Host the server on a thread of this process until SIGINT or SIGTERM.
     *
     * @param  array<string, mixed>  $config
     */
    protected function serveInProcess(array $config): int
    {
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
        $lines = (new ServeBanner($config))->lines($how);
        $this->info(array_shift($lines));
        foreach ($lines as $line) {
            $this->line($line);
        }
    }
}
