<?php

// A minimal Laravel application for the publish benchmark (Debian's Laravel framework, no
// Composer): config in memory, the providers broadcasting needs, and the rust-echo package's
// service provider autoloaded from src/.

declare(strict_types=1);

use Illuminate\Broadcasting\Channel;
use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Config\Repository;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;
use Illuminate\Foundation\Application;
use Illuminate\Support\Facades\Facade;

require_once 'Illuminate/autoload.php';

/** The event of the whole-path measurement, as an app would define it. */
class BenchOrderShipped implements ShouldBroadcastNow
{
    use InteractsWithSockets;

    public function __construct(public int $id, public float $total = 99.5)
    {
    }

    /** @return array<int, Channel> */
    public function broadcastOn(): array
    {
        return [new Channel('orders')];
    }

    public function broadcastAs(): string
    {
        return 'App\\Events\\OrderShipped';
    }
}

/** Boot the app with the `rust` and `redis` broadcasters on the Redis server at $redisPort. */
function bootLaravel(string $root, int $redisPort): Application
{
    spl_autoload_register(static function (string $class) use ($root): void {
        if (str_starts_with($class, 'RustEcho\\Laravel\\')) {
            $file = "$root/src/" . str_replace('\\', '/', substr($class, strlen('RustEcho\\Laravel\\'))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    });
    $app = new Application(sys_get_temp_dir());
    $app->instance('config', new Repository([
        'app' => ['debug' => false, 'env' => 'production'],
        'broadcasting' => [
            'default' => 'rust',
            'connections' => [
                'rust' => ['driver' => 'rust', 'connection' => 'default', 'transport' => 'extension'],
                'redis' => ['driver' => 'redis', 'connection' => 'default'],
            ],
        ],
        'database' => [
            'redis' => [
                'client' => 'phpredis',
                'options' => ['prefix' => ''],
                'default' => ['host' => '127.0.0.1', 'port' => $redisPort, 'database' => 0, 'timeout' => 1],
            ],
        ],
    ]));
    Facade::setFacadeApplication($app);
    foreach ([
        Illuminate\Bus\BusServiceProvider::class,
        Illuminate\Redis\RedisServiceProvider::class,
        Illuminate\Broadcasting\BroadcastServiceProvider::class,
        RustEcho\Laravel\RustEchoServiceProvider::class,
    ] as $provider) {
        $app->register($provider);
    }
    $app->boot();

    return $app;
}
