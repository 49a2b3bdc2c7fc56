<?php

// Routes that broadcast, as an app's controllers would. GET, so the tests need no CSRF token.

use App\Events\OrderShipped;
use App\Events\Ping;
use App\Events\QueuedPing;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;
use Laravel\Octane\Facades\Octane;

Route::get('/ping/{text}', function (Request $request, string $text) {
    broadcast(new Ping($text, $request->query('channel', 'news')));

    return ['sent' => $text, 'pid' => getmypid()];
});

Route::get('/via/{connection}/{text}', function (string $connection, string $text) {
    broadcast(new Ping($text))->via($connection);

    return ['sent' => $text, 'via' => $connection];
});

Route::get('/others/{text}', function (string $text) {
    broadcast(new Ping($text))->toOthers();

    return ['sent' => $text];
});

Route::get('/ship/{id}', function (Request $request, int $id) {
    broadcast(new OrderShipped($id, $request->boolean('chat')))->toOthers();

    return ['sent' => $id];
});

Route::get('/queued/{text}', function (string $text) {
    event(new QueuedPing($text));

    return ['queued' => $text];
});

// Each task runs in an Octane task worker and broadcasts from there.
Route::get('/concurrently/{text}/{count}', function (string $text, int $count) {
    $tasks = [];
    for ($i = 0; $i < $count; $i++) {
        $tasks[] = function () use ($text, $i) {
            broadcast(new Ping("$text $i"));

            return getmypid();
        };
    }

    return ['pids' => Octane::concurrently($tasks, 10000)];
});
