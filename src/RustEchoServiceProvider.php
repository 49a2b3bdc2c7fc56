<?php

namespace RustEcho\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Support\ServiceProvider;
use RustEcho\Laravel\Broadcasting\RustBroadcaster;
use RustEcho\Laravel\Console\ServeCommand;
use RustEcho\Laravel\Console\StatusCommand;
use RustEcho\Laravel\Support\MissingRedis;
use RustEcho\Laravel\Support\Runtime;
use RustEcho\Laravel\Support\ServerConfig;

class RustEchoServiceProvider extends ServiceProvider
{
    /**
     * Register any application services.
     */
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/rust-echo.php', 'rust-echo');

        // Laravel 11's install:broadcasting publishes a broadcasting.php without this connection:
        // BROADCAST_CONNECTION=rust works without editing it. The app's own `rust` entry wins.
        $config = $this->app['config'];
        if (! $config->has('broadcasting.connections.rust')) {
            $config->set('broadcasting.connections.rust', [
                'driver' => 'rust',
                'connection' => 'default',
                'transport' => env('RUST_ECHO_TRANSPORT', 'auto'),
            ]);
        }
    }

    /**
     * Bootstrap any application services.
     */
    public function boot(): void
    {
        $this->app->make(BroadcastManager::class)->extend('rust', function (Application $app, array $config) {
            return new RustBroadcaster(
                $app->bound('redis') ? $app->make('redis') : new MissingRedis(),
                $config['connection'] ?? null,
                (string) $app['config']->get('database.redis.options.prefix', ''),
                $config['transport'] ?? 'auto',
            );
        });

        // Point this process's publishes at the configured server's ring, unless php.ini does.
        if (
            Runtime::hasExtension() && ini_get('rust_echo.ring') === ''
            && ($ring = ServerConfig::ringName(ServerConfig::fromLaravel($this->app['config']))) !== null
        ) {
            ini_set('rust_echo.ring', $ring);
        }

        if ($this->app->runningInConsole()) {
            $this->commands([ServeCommand::class, StatusCommand::class]);

            $this->publishes([
                __DIR__ . '/../config/rust-echo.php' => $this->app->configPath('rust-echo.php'),
            ], ['rust-echo', 'rust-echo-config']);
        }
    }
}
