<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

use PHPUnit\Framework\AssertionFailedError;

/**
 * Waiting for a condition instead of for the clock.
 */
final class Wait
{
    /**
     * Poll $probe every 5 ms until it returns something other than false or null, and return
     * that; fail naming $what and the last value seen after $seconds.
     *
     * @template T
     * @param callable(): (T|false|null) $probe
     * @param callable(): string|null $seen Describes the state on failure (default: the last value).
     * @return T
     */
    public static function until(string $what, callable $probe, ?callable $seen = null, float $seconds = 10.0): mixed
    {
        $deadline = microtime(true) + $seconds;
        while (($value = $probe()) === false || $value === null) {
            if (microtime(true) > $deadline) {
                $state = $seen !== null ? $seen() : var_export($value, true);
                throw new AssertionFailedError("timed out after {$seconds} s waiting for $what; seen: $state");
            }
            usleep(5_000);
        }

        return $value;
    }
}
