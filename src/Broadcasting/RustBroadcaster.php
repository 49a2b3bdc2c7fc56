<?php

namespace RustEcho\Laravel\Broadcasting;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\Broadcasters\RedisBroadcaster;
use Illuminate\Contracts\Redis\Factory as Redis;
use InvalidArgumentException;
use RustEcho\Laravel\Support\Runtime;
use Throwable;

/**
 * The `rust` broadcast driver.
 *
 * Channel authorization is Laravel's RedisBroadcaster's, unchanged, so laravel-echo's auth flow
 * and presence member data work as they always have. Publishing goes through the rust_echo
 * extension when it reaches a server (in this process, or on this host over shared memory) and
 * otherwise through Redis, with exactly RedisBroadcaster's payload, prefix and command, so the
 * same app works against rust-echo, against laravel-echo-server, and in between.
 */
class RustBroadcaster extends RedisBroadcaster
{
    /**
     * Try the extension first, then Redis.
     */
    public const AUTO = 'auto';

    /**
     * The extension only; never Redis.
     */
    public const EXTENSION = 'extension';

    /**
     * Redis only.
     */
    public const REDIS = 'redis';

    /**
     * The transport policy.
     */
    protected string $transport;

    /**
     * Whether the extension is loaded, looked up once.
     */
    protected ?bool $extension = null;

    /**
     * Create a new broadcaster instance.
     *
     * @param  string|null  $connection
     * @param  string  $prefix
     */
    public function __construct(Redis $redis, $connection = null, $prefix = '', string $transport = self::AUTO)
    {
        if (! in_array($transport, [self::AUTO, self::EXTENSION, self::REDIS], true)) {
            throw new InvalidArgumentException(
                "Unknown rust-echo transport [$transport]; use auto, extension or redis."
            );
        }

        parent::__construct($redis, $connection, $prefix);

        $this->transport = $transport;
    }

    /**
     * Broadcast the given event.
     *
     * @param  array<int, mixed>  $channels
     * @param  string  $event
     * @param  array<string, mixed>  $payload
     *
     * @throws \Illuminate\Broadcasting\BroadcastException
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        if (empty($channels)) {
            return;
        }

        if ($this->transport !== self::REDIS) {
            if ($this->publishToExtension($channels, $event, $payload)) {
                return;
            }

            if ($this->transport === self::EXTENSION) {
                throw new BroadcastException(Runtime::hasExtension()
                    ? 'No rust-echo server is reachable from this process (none hosted here, and no '
                        . 'shared-memory ring ' . $this->ringName() . ' with a live server).'
                    : 'The rust_echo PHP extension is not loaded, and the rust-echo transport is "extension".');
            }
        }

        try {
            parent::broadcast($channels, $event, $payload);
        } catch (Throwable $e) {
            $hint = $this->longLivedHint();
            if ($e instanceof BroadcastException) {
                // Laravel 11's RedisBroadcaster reports Redis failures itself ("Redis error: ...").
                throw $hint === '' ? $e : new BroadcastException($e->getMessage() . $hint, 0, $e);
            }

            throw new BroadcastException('Redis error: ' . $e->getMessage() . $hint, 0, $e);
        }
    }

    /**
     * Tell a long-lived worker whose Redis failed under `auto` how to publish without Redis.
     */
    protected function longLivedHint(): string
    {
        return $this->transport === self::AUTO && Runtime::isLongLived($this->container())
            ? ' (long-lived workers publish without Redis when rust-echo runs on this host: '
                . 'php artisan rust-echo:serve, with the rust_echo extension loaded in the workers)'
            : '';
    }

    /**
     * Get the application container, when there is one.
     */
    protected function container(): ?\Illuminate\Contracts\Container\Container
    {
        return class_exists(\Illuminate\Container\Container::class)
            ? \Illuminate\Container\Container::getInstance()
            : null;
    }

    /**
     * Publish through the extension: in-process when this process hosts the server, else over
     * the shared-memory ring. False when neither reaches a server (or the extension is not
     * loaded). This runs on every broadcast, so it does only what it must.
     *
     * @param  array<int, mixed>  $channels
     * @param  array<string, mixed>  $payload
     *
     * @throws BroadcastException
     */
    protected function publishToExtension(array $channels, string $event, array $payload): bool
    {
        if (! ($this->extension ??= Runtime::hasExtension())) {
            return false;
        }

        $names = [];
        foreach ($channels as $channel) {
            $names[] = (string) $channel;
        }
        $socket = $payload['socket'] ?? null;

        try {
            // The same `data` RedisBroadcaster sends (the payload including its `socket` key),
            // encoded by the extension.
            $via = \RustEcho\publish($names, $event, $payload, is_string($socket) && $socket !== '' ? $socket : null);
        } catch (Throwable $e) {
            throw new BroadcastException('rust-echo refused the event: ' . $e->getMessage(), 0, $e);
        }

        return $via !== false;
    }

    /**
     * Name the ring this process publishes to, as the extension picks it (rust_echo.ring, then
     * RUST_ECHO_RING, then the default server's). Only reached with the extension loaded.
     */
    protected function ringName(): string
    {
        return '"' . \RustEcho\ring_name() . '"';
    }
}
