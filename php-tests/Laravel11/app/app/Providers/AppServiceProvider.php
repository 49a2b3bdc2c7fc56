<?php

namespace App\Providers;

use Illuminate\Auth\GenericUser;
use Illuminate\Foundation\Http\Middleware\ValidateCsrfToken;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    /**
     * Register any application services.
     */
    public function register(): void
    {
        // The test clients (laravel-echo in Node) carry no session cookie; they name their user
        // in a header that rust-echo passes on to /broadcasting/auth.
        config(['auth.guards.test-header' => ['driver' => 'test-header']]);

        // One `rust` connection per transport setting, for the routes that choose one, and
        // Laravel's own redis driver, which make bench-php compares with.
        foreach (['auto', 'extension', 'redis'] as $transport) {
            config(["broadcasting.connections.rust-$transport" => ['driver' => 'rust', 'transport' => $transport]]);
        }
        config(['broadcasting.connections.redis' => ['driver' => 'redis', 'connection' => 'default']]);
    }

    /**
     * Bootstrap any application services.
     */
    public function boot(): void
    {
        Auth::viaRequest('test-header', function (Request $request) {
            $id = $request->header('X-Test-User');

            return is_numeric($id) ? new GenericUser(['id' => (int) $id, 'name' => "user $id"]) : null;
        });

        // rust-echo POSTs the auth request itself, without the page's CSRF token.
        ValidateCsrfToken::except(['broadcasting/auth']);
    }
}
