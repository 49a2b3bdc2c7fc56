<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel\Fixtures;

use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Route;
use Illuminate\Support\ServiceProvider;

/**
 * The test app's broadcast routes, channel callbacks and a route that broadcasts toOthers().
 */
class RoutesServiceProvider extends ServiceProvider
{
    /**
     * Bootstrap any application services.
     */
    public function boot(): void
    {
        Route::middlewareGroup('web', []);
        Broadcast::routes(['middleware' => ['web']]);

        Broadcast::channel('orders.{id}', fn ($user, $id) => (int) $user->id === (int) $id);
        Broadcast::channel('chat', fn ($user) => ['id' => $user->id, 'name' => $user->name]);
        Broadcast::channel('truthy', fn ($user) => true);
        Broadcast::channel('admin.{id}', fn ($user, $id) => (int) $user->id === (int) $id, ['guards' => ['admin']]);

        Route::post('/ship/{id}', function (int $id) {
            broadcast(new OrderShipped($id))->toOthers();

            return 'sent';
        });
    }
}
