<?php

// The demo application: Debian's Laravel framework, the rust-echo package from this repository.

declare(strict_types=1);

require_once 'Illuminate/autoload.php';

spl_autoload_register(static function (string $class): void {
    $roots = ['App\\' => dirname(__DIR__) . '/app/', 'RustEcho\\Laravel\\' => dirname(__DIR__, 3) . '/src/'];
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    }
});

$app = new Illuminate\Foundation\Application(dirname(__DIR__));
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Console\Kernel::class, Illuminate\Foundation\Console\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

return $app;
