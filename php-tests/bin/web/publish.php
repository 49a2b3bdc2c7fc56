<?php

// Served by `php -S` workers and php-fpm in the tests: publishes one event per request and
// answers with the transport that took it.

declare(strict_types=1);

$n = (int) ($_GET['n'] ?? 0);
$via = RustEcho\publish(['web'], 'E', json_encode(['n' => $n, 'pid' => getmypid()]));
header('Content-Type: text/plain');
echo $via === false ? 'false' : $via;
