<?php

namespace RustEcho\Laravel\Support;

use Illuminate\Contracts\Container\Container;

/**
 * What kind of PHP process the app runs in.
 */
class Runtime
{
    /**
     * Determine whether this is a long-lived worker (Octane, Swoole, OpenSwoole).
     */
    public static function isLongLived(?Container $app = null): bool
    {
        return (bool) getenv('LARAVEL_OCTANE')
            || ($app !== null && $app->bound('octane'))
            || extension_loaded('swoole')
            || extension_loaded('openswoole');
    }

    /**
     * Determine whether the rust_echo extension is loaded.
     */
    public static function hasExtension(): bool
    {
        return function_exists('RustEcho\publish');
    }
}
