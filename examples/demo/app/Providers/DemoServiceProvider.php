<?php

namespace App\Providers;

use App\Auth\NameUserProvider;
use App\Events\MessagePosted;
use App\Events\Poked;
use App\Http\Pages;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Route;
use Illuminate\Support\ServiceProvider;

/**
 * The demo's routes and channels.
 */
class DemoServiceProvider extends ServiceProvider
{
    /**
     * Bootstrap any application services.
     */
    public function boot(): void
    {
        Auth::provider('names', fn () => new NameUserProvider());

        Broadcast::routes(['middleware' => ['web']]);
        Broadcast::channel('chat', fn ($user) => ['id' => $user->id, 'name' => $user->name]);
        Broadcast::channel('App.Models.User.{id}', fn ($user, $id) => $user->id === $id);

        Route::middleware('web')->group(function () {
            Route::get('/', fn () => Auth::check() ? redirect('/chat') : Pages::login());

            Route::post('/login', function (Request $request) {
                $user = NameUserProvider::user((string) $request->input('name'));
                if ($user === null) {
                    return redirect('/');
                }
                Auth::login($user);

                return redirect('/chat');
            });

            Route::post('/logout', function () {
                Auth::logout();

                return redirect('/');
            });

            Route::get('/chat', function () {
                if (! Auth::check()) {
                    return redirect('/');
                }
                $echo = sprintf('http://%s:%d', request()->getHost(), config('rust-echo.port'));

                return Pages::chat((string) Auth::id(), $echo);
            });

            // JSON {"text": "..."}; no CSRF token, so scripts (curl) can post too.
            Route::post('/messages', function (Request $request) {
                $text = trim((string) $request->json('text', $request->input('text', '')));
                if ($text === '' || mb_strlen($text) > 500) {
                    return response()->json(['error' => 'text must be 1 to 500 characters'], 422);
                }
                event(new MessagePosted(Auth::check() ? (string) Auth::id() : 'curl', $text));

                return response()->json(['ok' => true]);
            });

            Route::post('/poke/{name}', function (string $name) {
                if (NameUserProvider::user($name) === null) {
                    return response()->json(['error' => 'unknown name'], 422);
                }
                event(new Poked($name, Auth::check() ? (string) Auth::id() : 'curl'));

                return response()->json(['ok' => true]);
            });
        });
    }
}
