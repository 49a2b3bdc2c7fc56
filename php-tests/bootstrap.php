<?php

// PHPUnit bootstrap: the test namespace and, when installed, Debian's Laravel framework.

declare(strict_types=1);

require_once 'Illuminate/autoload.php';

spl_autoload_register(static function (string $class): void {
    $prefixes = [
        'RustEcho\\Tests\\' => __DIR__ . '/',
        'RustEcho\\Laravel\\' => dirname(__DIR__) . '/src/',
    ];
    foreach ($prefixes as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    }
});

// Under CI=true nothing may be skipped for want of a component: fail before any test runs. Only
// in PHPUnit's own process: the fixture apps load this file too, in processes the tests start
// without the extension on purpose.
if (defined('PHPUNIT_COMPOSER_INSTALL') && \RustEcho\Tests\Support\Requirements::strict()) {
    $missing = \RustEcho\Tests\Support\Requirements::missing();
    if ($missing !== []) {
        fwrite(STDERR, "CI=true and the PHP suites cannot run in full:\n  - " . implode("\n  - ", $missing) . "\n");
        exit(1);
    }
}
