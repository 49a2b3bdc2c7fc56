<?php

// A minimal Laravel application for the package tests (Debian's Laravel framework, no Composer).

declare(strict_types=1);

require_once 'Illuminate/autoload.php';
require_once dirname(__DIR__, 3) . '/bootstrap.php';

$app = new Illuminate\Foundation\Application(dirname(__DIR__));
$app->singleton(Illuminate\Contracts\Http\Kernel::class, Illuminate\Foundation\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Console\Kernel::class, Illuminate\Foundation\Console\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

return $app;
