<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

/**
 * A child process the test owns: started with proc_open in a session of its own, output
 * captured, and killed with everything it forked (php -S workers, php-fpm children) on destruct.
 */
final class Process
{
    /** @var resource */
    private $handle;

    /** @var array<int, resource> */
    private array $pipes;

    private string $stdout = '';

    private string $stderr = '';

    /**
     * Start a command (argument list, no shell) with extra environment variables.
     *
     * @param list<string> $command
     * @param array<string, string> $env
     */
    public function __construct(array $command, array $env = [], ?string $cwd = null)
    {
        $io = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        // setsid makes the process lead a new process group, so its workers can be signalled too.
        $handle = proc_open(['setsid', ...$command], $io, $pipes, $cwd, $env + getenv());
        if (! is_resource($handle)) {
            throw new \RuntimeException('could not start ' . implode(' ', $command));
        }
        $this->handle = $handle;
        $this->pipes = $pipes;
        fclose($pipes[0]);
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
    }

    /**
     * Get the process id.
     */
    public function pid(): int
    {
        return proc_get_status($this->handle)['pid'];
    }

    /**
     * Determine whether the process still runs.
     */
    public function running(): bool
    {
        return proc_get_status($this->handle)['running'];
    }

    /**
     * Read what the process wrote so far.
     */
    public function output(): string
    {
        $this->stdout .= stream_get_contents($this->pipes[1]) ?: '';

        return $this->stdout;
    }

    /**
     * Read what the process wrote to stderr so far.
     */
    public function errors(): string
    {
        $this->stderr .= stream_get_contents($this->pipes[2]) ?: '';

        return $this->stderr;
    }

    /**
     * Wait until stdout contains $text, or fail after $seconds.
     */
    public function waitFor(string $text, float $seconds = 10.0): void
    {
        $deadline = microtime(true) + $seconds;
        while (! str_contains($this->output(), $text)) {
            $ended = ! $this->running() && ! str_contains($this->output(), $text);
            if (microtime(true) > $deadline || $ended) {
                $seen = "stdout: {$this->output()} stderr: {$this->errors()}";
                throw new \RuntimeException("waited for \"$text\"; $seen");
            }
            usleep(5_000);
        }
    }

    /**
     * Wait for the process to end and return its exit code.
     */
    public function wait(float $seconds = 30.0): int
    {
        $deadline = microtime(true) + $seconds;
        while (true) {
            $status = proc_get_status($this->handle);
            if (! $status['running']) {
                $this->output();
                $this->errors();

                return $status['exitcode'];
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("process did not end; stderr: {$this->errors()}");
            }
            $this->output();
            usleep(5_000);
        }
    }

    /**
     * Send a signal.
     */
    public function signal(int $signal): void
    {
        posix_kill($this->pid(), $signal);
    }

    /**
     * Stop the process and everything in its process group: SIGTERM first, so servers shut down
     * cleanly (removing their rings), then SIGKILL for whatever is left.
     */
    public function __destruct()
    {
        $group = -$this->pid();
        if ($this->running()) {
            posix_kill($group, SIGTERM);
            $deadline = microtime(true) + 3;
            while ($this->running() && microtime(true) < $deadline) {
                usleep(10_000);
            }
        }
        posix_kill($group, SIGKILL);
        foreach ([1, 2] as $i) {
            if (is_resource($this->pipes[$i])) {
                fclose($this->pipes[$i]);
            }
        }
        proc_close($this->handle);
    }
}
