<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use Illuminate\Contracts\Console\Kernel;
use Illuminate\Foundation\Application;
use Illuminate\Foundation\Testing\TestCase as BaseTestCase;

/**
 * Boots the real Laravel application under php-tests/Laravel/app.
 */
abstract class TestCase extends BaseTestCase
{
    /**
     * Creates the application.
     */
    public function createApplication(): Application
    {
        $app = require __DIR__ . '/app/bootstrap/app.php';
        $app->make(Kernel::class)->bootstrap();

        return $app;
    }

    /**
     * Get the PHP command that runs artisan, with or without the extension.
     *
     * @return list<string>
     */
    protected function artisanCommand(bool $extension): array
    {
        $php = [PHP_BINARY];
        if ($extension) {
            array_push($php, '-d', 'extension=' . \RustEcho\Tests\Support\Paths::extension());
        }

        return [...$php, __DIR__ . '/app/artisan'];
    }
}
