<?php

namespace RustEcho\Laravel\Support;

/**
 * Runs the standalone rust-echo binary with a configuration handed over on its standard input:
 * no file holds the Redis password, the API keys or the TLS passphrase, and none appears on the
 * command line. The binary applies no RUST_ECHO_* / LARAVEL_ECHO_SERVER_* variable and no .env
 * (`--no-env`): the configuration it gets is the whole configuration.
 */
class BinaryServer
{
    public function __construct(protected string $binary)
    {
    }

    /**
     * Find the binary: a configured path, else a name looked up on PATH.
     */
    public static function find(string $configured): ?self
    {
        if (str_contains($configured, '/')) {
            return is_executable($configured) ? new self($configured) : null;
        }
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("$dir/$configured")) {
                return new self("$dir/$configured");
            }
        }

        return null;
    }

    /**
     * Get the binary's path.
     */
    public function path(): string
    {
        return $this->binary;
    }

    /**
     * Run the server until it exits, passing SIGINT, SIGTERM and SIGHUP on to it; returns its
     * exit code (128 + the signal when a signal ended it), or null when it could not be started.
     *
     * @param  array<string, mixed>  $config
     */
    public function run(array $config): ?int
    {
        $process = proc_open(
            [$this->binary, 'start', '--config', '-', '--no-env'],
            [0 => ['pipe', 'r'], 1 => STDOUT, 2 => STDERR],
            $pipes,
        );
        if (! is_resource($process)) {
            return null;
        }
        fwrite($pipes[0], json_encode($config, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR));
        fclose($pipes[0]);

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

        return $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
    }
}
