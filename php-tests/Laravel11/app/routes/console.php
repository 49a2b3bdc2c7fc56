<?php

use App\Events\Ping;
use Illuminate\Support\Facades\Artisan;

Artisan::command('app:ping {text} {--channel=news}', function (string $text) {
    broadcast(new Ping($text, $this->option('channel')));
    $this->info("sent $text");
})->purpose('Broadcast a Ping from the command line');
