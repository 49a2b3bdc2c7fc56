<?php

declare(strict_types=1);

namespace RustEcho\Tests\Support;

/**
 * What the suites need to run in full. Locally a test whose component is missing may be skipped
 * (PHPUnit's @requires); under CI=true the run fails instead, naming what is missing, so a
 * green CI run never hides tests that did not run.
 */
final class Requirements
{
    /**
     * Whether missing components must fail the run.
     */
    public static function strict(): bool
    {
        return getenv('CI') === 'true';
    }

    /**
     * Describe every missing component, one line each.
     *
     * @return list<string>
     */
    public static function missing(): array
    {
        $missing = [];
        if (! extension_loaded('rust_echo')) {
            $missing[] = 'the rust_echo extension is not loaded in this PHP '
                . '(run phpunit with -d extension=' . Paths::extension() . ')';
        }
        $artifacts = ['extension (RUST_ECHO_EXT)' => Paths::extension(), 'binary (RUST_ECHO_BIN)' => Paths::binary()];
        foreach ($artifacts as $what => $path) {
            if (! is_file($path)) {
                $missing[] = "the rust-echo $what is not built: $path";
            }
        }
        foreach (['redis-server', 'redis-cli', 'node'] as $command) {
            if (self::command($command) === null) {
                $missing[] = "$command is not on PATH (scripts/setup.sh installs it)";
            }
        }
        if (! is_dir(Paths::root() . '/e2e/node_modules/laravel-echo')) {
            $missing[] = 'laravel-echo is not installed in e2e/node_modules (run npm ci in e2e)';
        }

        return $missing;
    }

    /**
     * Find $name on PATH.
     */
    private static function command(string $name): ?string
    {
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("$dir/$name")) {
                return "$dir/$name";
            }
        }

        return null;
    }
}
