<?php

// Boots the test Laravel app and broadcasts OrderShipped through a connection:
//   php laravel_broadcast.php CONNECTION REDIS_PORT ORDER_ID
// Run without the extension to exercise the Redis path.

declare(strict_types=1);

[, $connection, $redisPort, $id] = $argv;
// Laravel's Redis manager reads its settings once, while the app boots.
putenv("REDIS_PORT=$redisPort");

$app = require __DIR__ . '/../Laravel/app/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
$app['config']->set('broadcasting.default', $connection);

$event = new RustEcho\Tests\Laravel\Fixtures\OrderShipped((int) $id);
$app->make(Illuminate\Contracts\Broadcasting\Factory::class)
    ->connection($connection)
    ->broadcast(
        $event->broadcastOn(),
        get_class($event),
        ['id' => $event->id, 'total' => $event->total, 'socket' => null],
    );
echo "broadcast via $connection\n";
