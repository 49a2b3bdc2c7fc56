<?php

// A Swoole HTTP server hosting rust-echo, with workers, task workers, coroutines and a user process
// publishing over the ring:
//   php -d extension=swoole -d extension=librust_echo.so host.php process|base HTTP_PORT 'SERVER_CONFIG_JSON' HOSTING
// HOSTING `process`: the server runs in a Swoole\Process added to the Swoole server;
//         `master`: the master starts it before $server->start() and stops it on shutdown.
// GET /publish?text=T&n=N  N coroutines in the worker each publish {"text": "T i"} on `news`
// GET /task?text=T          a task worker publishes {"text": "T"} (text empty: nothing)
// GET /user?text=T          the user process publishes {"text": "T"} and prints "user T <transport>"
// GET /pid                  the worker's pid
// Prints "started <master pid>" once the server runs and "worker <id> <pid>" as each (task) worker starts.

declare(strict_types=1);

use Swoole\Coroutine;
use Swoole\Coroutine\WaitGroup;
use Swoole\Http\Request;
use Swoole\Http\Response;
use Swoole\Http\Server;
use Swoole\Process;

[, $mode, $httpPort, $json, $hosting] = $argv;
$config = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
ini_set('rust_echo.ring', 'rust-echo-' . $config['port']);

$server = new Server('127.0.0.1', (int) $httpPort, $mode === 'base' ? SWOOLE_BASE : SWOOLE_PROCESS);
$server->set([
    'worker_num' => 2,
    'task_worker_num' => 1,
    'enable_coroutine' => true,
    'hook_flags' => SWOOLE_HOOK_ALL,
    'log_level' => SWOOLE_LOG_WARNING,
]);

if ($hosting === 'process') {
    // The server runs in its own process; serve() returns when Swoole stops the process (SIGTERM).
    $server->addProcess(new Process(static function () use ($config): void {
        \RustEcho\Server::serve($config);
    }, false, 0, false));
} else {
    // The master hosts it on a thread of its own; the processes Swoole forks publish over the ring.
    \RustEcho\Server::start($config);
    $server->on('shutdown', static function (): void {
        \RustEcho\Server::stop();
    });
}

// A user process publishing what a worker hands it through its pipe.
$user = new Process(static function (Process $self): void {
    while (($text = $self->read()) !== false && $text !== '') {
        $via = \RustEcho\publish(['news'], 'ping', ['text' => $text]);
        echo "user $text " . var_export($via, true) . "\n";
    }
}, false, SOCK_DGRAM, false);
$server->addProcess($user);

$server->on('start', static function (Server $server): void {
    echo "started {$server->master_pid}\n";
});

// One line per worker and task worker (re)started, so a test can tell when a reload is over.
$server->on('workerStart', static function (Server $server, int $id): void {
    echo "worker $id " . getmypid() . "\n";
});

// Publish from $n coroutines at once; return how many publishes each transport took.
$publishConcurrently = static function (string $text, int $n): array {
    $group = new WaitGroup();
    $via = [];
    for ($i = 0; $i < $n; $i++) {
        $group->add();
        Coroutine::create(static function () use ($text, $i, $group, &$via): void {
            Coroutine::sleep(0.001 * ($i % 3));
            $taken = var_export(\RustEcho\publish(['news'], 'ping', ['text' => "$text $i"]), true);
            $via[$taken] = ($via[$taken] ?? 0) + 1;
            $group->done();
        });
    }
    $group->wait();

    return $via;
};

$onRequest = static function (Request $request, Response $response) use ($server, $user, $publishConcurrently): void {
    $path = $request->server['request_uri'];
    $text = (string) ($request->get['text'] ?? '');
    $result = match ($path) {
        '/publish' => $publishConcurrently($text, (int) ($request->get['n'] ?? 1)),
        '/task' => $server->taskwait($text, 10.0),
        '/user' => $user->write($text),
        '/pid' => getmypid(),
        default => null,
    };
    $response->header('Content-Type', 'application/json');
    $response->end(json_encode(['result' => $result, 'pid' => getmypid()]));
};
$server->on('request', $onRequest);

$server->on('task', static function (Server $server, int $id, int $from, string $text): array {
    // An empty text only reports which task worker answered.
    return [$text === '' ? null : \RustEcho\publish(['news'], 'ping', ['text' => $text]), getmypid()];
});

$server->on('finish', static function (): void {
});

$server->start();
