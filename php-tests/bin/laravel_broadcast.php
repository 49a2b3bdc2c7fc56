<?php

// Boots the test Laravel app with CONNECTION as the default broadcaster and fires OrderShipped
// (ShouldBroadcastNow) and QueuedPing (ShouldBroadcast, sync queue):
//   php laravel_broadcast.php CONNECTION REDIS_PORT ORDER_ID
// Run without the extension to exercise the Redis path.

declare(strict_types=1);

[, $connection, $redisPort, $id] = $argv;
// Laravel reads these once, while the app boots.
putenv("REDIS_PORT=$redisPort");
putenv("BROADCAST_DRIVER=$connection");

$app = require __DIR__ . '/../Laravel/app/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

event(new RustEcho\Tests\Laravel\Fixtures\OrderShipped((int) $id));
event(new RustEcho\Tests\Laravel\Fixtures\QueuedPing("ping $id"));
echo "broadcast via $connection\n";
