<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\BroadcastManager;
use RustEcho\Laravel\Support\Runtime;
use RustEcho\Tests\Support\Paths;

/**
 * Long-lived workers (Octane, Swoole) are recognised, and told how to publish without Redis.
 */
final class RuntimeTest extends TestCase
{
    protected function tearDown(): void
    {
        putenv('LARAVEL_OCTANE');
        putenv('REDIS_PORT');
        parent::tearDown();
    }

    public function testDetection(): void
    {
        $this->assertFalse(Runtime::isLongLived($this->app));
        $this->app->instance('octane', new \stdClass());
        $this->assertTrue(Runtime::isLongLived($this->app));
        $this->app->offsetUnset('octane');
        putenv('LARAVEL_OCTANE=1');
        $this->assertTrue(Runtime::isLongLived($this->app));
    }

    public function testOctaneWorkerWithoutAServerIsToldWhatToRun(): void
    {
        putenv('REDIS_PORT=' . Paths::freePort());
        putenv('LARAVEL_OCTANE=1');
        $this->refreshApplication();
        ini_set('rust_echo.ring', 'rust-echo-nobody-' . getmypid());
        try {
            $this->app->make(BroadcastManager::class)->connection('rust')->broadcast(['orders'], 'E', []);
            $this->fail('no exception');
        } catch (BroadcastException $e) {
            $this->assertStringStartsWith('Redis error: ', $e->getMessage());
            $this->assertStringContainsString('php artisan rust-echo:serve', $e->getMessage());
        } finally {
            ini_restore('rust_echo.ring');
        }
    }
}
