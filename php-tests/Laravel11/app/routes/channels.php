<?php

// Channel authorization as an app defines it; install:broadcasting created this file.

use Illuminate\Support\Facades\Broadcast;

Broadcast::channel('orders.{id}', function ($user, int $id) {
    return (int) $user->id === $id;
});

Broadcast::channel('chat', function ($user) {
    return ['id' => (int) $user->id, 'name' => $user->name];
});
