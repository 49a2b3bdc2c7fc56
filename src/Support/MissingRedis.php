<?php

namespace RustEcho\Laravel\Support;

use Illuminate\Contracts\Redis\Factory;
use RuntimeException;

/**
 * Stands in for Laravel's Redis manager when the app has none, so the Redis transport fails
 * with a clear message instead of the driver failing to resolve.
 */
class MissingRedis implements Factory
{
    /**
     * Get a Redis connection by name.
     *
     * @param  string|null  $name
     */
    public function connection($name = null)
    {
        throw new RuntimeException('Redis is not configured in this application (no "redis" binding).');
    }
}
