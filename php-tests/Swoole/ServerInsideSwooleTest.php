<?php

declare(strict_types=1);

namespace RustEcho\Tests\Swoole;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Laravel11\App;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * rust-echo hosted inside a Swoole server — in a Swoole\Process added to it, or started in the
 * master before `start()` — in SWOOLE_PROCESS and SWOOLE_BASE modes: workers, their coroutines,
 * task workers and a user process publish over the ring; reload and shutdown leave no process,
 * ring or port behind.
 */
final class ServerInsideSwooleTest extends TestCase
{
    protected function setUp(): void
    {
        if (! App::hasSwoole()) {
            App::missing('ext-swoole is not installed (run scripts/setup-laravel11.sh swoole)');
        }
    }

    /**
     * @return array<string, array{string, string}>
     */
    public static function modes(): array
    {
        return [
            'SWOOLE_PROCESS, in a user process' => ['process', 'process'],
            'SWOOLE_BASE, in a user process' => ['base', 'process'],
            'SWOOLE_PROCESS, in the master' => ['process', 'master'],
            'SWOOLE_BASE, in the master' => ['base', 'master'],
        ];
    }

    /**
     * @dataProvider modes
     */
    public function testWorkersCoroutinesTasksAndUserProcessesPublishThroughReloadAndShutdown(
        string $mode,
        string $hosting,
    ): void {
        $port = Paths::freePort();
        $httpPort = Paths::freePort();
        $config = [
            'host' => '127.0.0.1',
            'port' => $port,
            'clients' => [['appId' => 'app', 'key' => 'secret']],
            'subscribers' => ['redis' => false],
            'metrics' => ['enabled' => false],
        ];
        $host = new Process([
            PHP_BINARY, '-n', '-d', 'extension=swoole', '-d', 'extension=' . Paths::extension(),
            __DIR__ . '/bin/host.php', $mode, (string) $httpPort, json_encode($config), $hosting,
        ]);
        $host->waitFor("started ", 30.0);
        $starts = static fn () => preg_match_all('/^worker \d+ \d+$/m', $host->output());
        Wait::until('2 workers and a task worker', fn () => $starts() === 3);
        Wait::until('the hosted server', fn () => @file_get_contents("http://127.0.0.1:$port/") === 'OK');
        $news = new Listener("http://127.0.0.1:$port", ['news'], 'ping');
        $get = static fn (string $path)
            => json_decode((string) file_get_contents("http://127.0.0.1:$httpPort$path"), true);

        $this->assertSame(['\'shm\'' => 300], $get('/publish?text=c&n=300')['result'], '300 coroutines over the ring');
        [$via] = $get('/task?text=from-a-task')['result'];
        $this->assertSame('shm', $via);
        $this->assertTrue($get('/user?text=from-a-user-process')['result'] !== false);
        $userPublished = fn () => str_contains($host->output(), "user from-a-user-process 'shm'\n");
        Wait::until('the user process published', $userPublished, $host->output(...));

        $host->signal(SIGUSR1); // $server->reload(): new workers and task workers, one by one
        Wait::until('all 3 restarted', fn () => $starts() === 6, $host->output(...));
        $this->assertSame('shm', $get('/task?text=after-reload')['result'][0]);
        $this->assertSame(['\'shm\'' => 50], $get('/publish?text=r&n=50')['result']);

        // Published after every other publish returned, so a duplicate would arrive before it.
        $this->assertSame('shm', $get('/task?text=marker')['result'][0]);
        $texts = array_column(array_column($news->take(300 + 1 + 1 + 1 + 50 + 1), 'data'), 'text');
        $this->assertSame('marker', array_pop($texts), 'the marker comes last: nothing duplicated');
        $expected = [...array_map(static fn ($i) => "c $i", range(0, 299)),
            'from-a-task', 'from-a-user-process', 'after-reload',
            ...array_map(static fn ($i) => "r $i", range(0, 49))];
        sort($texts);
        sort($expected);
        $this->assertSame($expected, $texts, 'nothing lost, nothing duplicated');

        $host->signal(SIGTERM); // $server->shutdown()
        $this->assertSame(0, $host->wait(20), $host->errors());
        $this->assertFalse(@file_get_contents("http://127.0.0.1:$port/"), 'the port is closed');
        $this->assertFileDoesNotExist("/dev/shm/rust-echo-$port", 'the ring is removed');
        $left = trim((string) shell_exec('pgrep -g ' . $host->pid()));
        $this->assertSame('', $left, 'no process left');
    }
}
