<?php

// IDE and static-analysis stubs for the rust_echo extension. Not loaded at runtime.

namespace RustEcho {
    /**
     * The rust-echo server, hosted on a thread of this PHP process.
     */
    final class Server
    {
        /**
         * Start the server on a thread of this process. Idempotent.
         *
         * @param array<string, mixed>|null $config laravel-echo-server.json keys
         *
         * @throws Exception\ConfigException when a value is unusable (the message names the key)
         * @throws Exception\ServerException when the server cannot start (e.g. the port is taken)
         */
        public static function start(?array $config = null): void
        {
        }

        /**
         * start(), then block until SIGINT/SIGTERM or stop(); returns after a graceful shutdown.
         * SIGHUP reloads the TLS certificate of an https server.
         *
         * @param array<string, mixed>|null $config laravel-echo-server.json keys
         *
         * @throws Exception\ConfigException
         * @throws Exception\ServerException
         */
        public static function serve(?array $config = null): void
        {
        }

        /**
         * Stop the server hosted by this process (gracefully); a no-op when none runs.
         */
        public static function stop(): void
        {
        }

        /**
         * Determine whether this process hosts a running server.
         */
        public static function running(): bool
        {
        }

        /**
         * Connections, channels, messages in/out by transport, the shared-memory ring's name and fill.
         *
         * @return array<string, mixed>
         *
         * @throws Exception\ServerException when no server runs in this process
         */
        public static function stats(): array
        {
        }
    }

    /**
     * Publish to the fastest running server: 'memory' (this process hosts it), 'shm' (a server
     * on this host, over the shared-memory ring named by INI rust_echo.ring or RUST_ECHO_RING,
     * default rust-echo-6001), or false when none is reachable.
     *
     * @param list<string> $channels channel names as clients subscribe to them
     * @param mixed $data the event's data: JSON text (validated, never re-encoded), or a PHP
     *                    value encoded as json_encode() would
     *
     * @throws Exception\PublishException on invalid arguments, or a file at the ring's path
     *                                    this process does not trust (another user's, a link)
     */
    function publish(array $channels, string $event, mixed $data, ?string $socket = null): string|false
    {
    }

    /**
     * The shared-memory ring publish() uses (INI rust_echo.ring, else RUST_ECHO_RING, else the
     * default server's ring); with $port, the default ring of a server on that port.
     *
     * @throws Exception\ConfigException when $port is not a port number
     */
    function ring_name(?int $port = null): string
    {
    }
}

namespace RustEcho\Exception {
    /** Base of every exception the extension throws. */
    class RustEchoException extends \RuntimeException
    {
    }

    /** The server could not start or stop. */
    class ServerException extends RustEchoException
    {
    }

    /** A configuration value is unusable; the message names the key. */
    class ConfigException extends RustEchoException
    {
    }

    /** publish() was given invalid arguments. */
    class PublishException extends RustEchoException
    {
    }
}
