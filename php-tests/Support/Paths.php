<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

/**
 * Where the built artifacts and helper scripts are.
 */
final class Paths
{
    /**
     * Get the project root.
     */
    public static function root(): string
    {
        return dirname(__DIR__, 2);
    }

    /**
     * Get the built extension (RUST_ECHO_EXT overrides).
     */
    public static function extension(): string
    {
        return getenv('RUST_ECHO_EXT') ?: self::root() . '/target/debug/librust_echo.so';
    }

    /**
     * Get the built rust-echo binary (RUST_ECHO_BIN overrides).
     */
    public static function binary(): string
    {
        return getenv('RUST_ECHO_BIN') ?: self::root() . '/target/debug/rust-echo';
    }

    /**
     * Get a free TCP port on the loopback interface.
     */
    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($socket === false) {
            throw new \RuntimeException("no free port: $error");
        }
        $name = stream_socket_get_name($socket, false);
        fclose($socket);

        return (int) substr($name, strrpos($name, ':') + 1);
    }

    /**
     * Create a fresh temporary directory.
     */
    public static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir() . '/' . $prefix . '-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($dir, 0700, true);

        return $dir;
    }
}
