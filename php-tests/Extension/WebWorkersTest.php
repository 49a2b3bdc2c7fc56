<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Support\EchoServer;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;

/**
 * Web workers that load the extension publish over the ring: `php -S` with 4 workers and
 * php-fpm with 4 children, each request publishing one event.
 *
 * @requires extension rust_echo
 */
final class WebWorkersTest extends TestCase
{
    private const REQUESTS = 200;

    /**
     * @param list<array{channel: string, event: string, data: mixed}> $events
     * @param list<string> $answers
     */
    private function assertEveryRequestDeliveredOnce(array $events, array $answers): void
    {
        $this->assertSame(array_fill(0, self::REQUESTS, 'shm'), $answers);
        $ns = array_map(static fn (array $e) => $e['data']['n'], $events);
        sort($ns);
        $this->assertSame(range(0, self::REQUESTS - 1), $ns);
        $pids = array_unique(array_map(static fn (array $e) => $e['data']['pid'], $events));
        $this->assertGreaterThan(1, count($pids), 'served by more than one worker process');
    }

    public function testPhpBuiltInServerWorkers(): void
    {
        $server = new EchoServer();
        $listener = new Listener($server->url, ['web']);
        $port = Paths::freePort();
        $web = new Process(
            [
                PHP_BINARY, '-d', 'extension=' . Paths::extension(), '-d', 'rust_echo.ring=' . $server->ring,
                '-S', "127.0.0.1:$port", '-t', __DIR__ . '/../bin/web',
            ],
            ['PHP_CLI_SERVER_WORKERS' => '4'],
        );
        $deadline = microtime(true) + 10;
        while (@file_get_contents("http://127.0.0.1:$port/publish.php?n=-1") === false) {
            $this->assertLessThan($deadline, microtime(true), 'php -S did not start: ' . $web->errors());
            usleep(20_000);
        }
        $listener->take(1);

        $multi = curl_multi_init();
        $handles = [];
        for ($n = 0; $n < self::REQUESTS; $n++) {
            $h = curl_init("http://127.0.0.1:$port/publish.php?n=$n");
            curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
            curl_multi_add_handle($multi, $h);
            $handles[] = $h;
        }
        do {
            curl_multi_exec($multi, $running);
            curl_multi_select($multi, 0.1);
        } while ($running > 0);
        $answers = array_map(static fn ($h) => (string) curl_multi_getcontent($h), $handles);
        $events = array_slice($listener->take(self::REQUESTS + 1), 1);
        $this->assertEveryRequestDeliveredOnce($events, $answers);
    }

    public function testPhpFpmWorkers(): void
    {
        $fpm = trim((string) shell_exec('command -v php-fpm8.2 || command -v php-fpm'));
        if ($fpm === '' || trim((string) shell_exec('command -v cgi-fcgi')) === '') {
            if (getenv('CI') === 'true') {
                $this->fail('php-fpm and cgi-fcgi are missing (CI=true: not skipped); scripts/setup.sh installs them');
            }
            $this->markTestSkipped('php-fpm and cgi-fcgi are installed by scripts/setup.sh');
        }
        $server = new EchoServer();
        $listener = new Listener($server->url, ['web']);
        $dir = Paths::tempDir('rust-echo-fpm');
        $port = Paths::freePort();
        $user = posix_getpwuid(posix_geteuid())['name'];
        file_put_contents("$dir/fpm.conf", implode("\n", [
            '[global]',
            "error_log = $dir/fpm.log",
            'daemonize = no',
            '[www]',
            "user = $user",
            "listen = 127.0.0.1:$port",
            'pm = static',
            'pm.max_children = 4',
            'clear_env = no',
            'php_admin_value[rust_echo.ring] = ' . $server->ring,
        ]) . "\n");
        $args = [$fpm, '-n', '-y', "$dir/fpm.conf", '-d', 'extension=' . Paths::extension()];
        if (posix_geteuid() === 0) {
            $args[] = '-R';
        }
        $pool = new Process($args);
        $script = realpath(__DIR__ . '/../bin/web/publish.php');
        $request = static function (int $n) use ($port, $script): string {
            $env = [
                'SCRIPT_FILENAME' => $script,
                'REQUEST_METHOD' => 'GET',
                'QUERY_STRING' => "n=$n",
                'GATEWAY_INTERFACE' => 'CGI/1.1',
            ];
            $p = new Process(['cgi-fcgi', '-bind', '-connect', "127.0.0.1:$port"], $env);
            $p->wait(10);
            $body = $p->output();

            return substr($body, strpos($body, "\r\n\r\n") + 4);
        };
        $deadline = microtime(true) + 10;
        while (! str_ends_with($request(-1), 'shm')) {
            $why = 'php-fpm did not serve: ' . $pool->errors() . @file_get_contents("$dir/fpm.log");
            $this->assertLessThan($deadline, microtime(true), $why);
            usleep(50_000);
        }
        $listener->take(1);
        $answers = [];
        for ($n = 0; $n < self::REQUESTS; $n++) {
            $answers[] = $request($n);
        }
        $events = array_slice($listener->take(self::REQUESTS + 1), 1);
        $this->assertEveryRequestDeliveredOnce($events, $answers);
    }
}
