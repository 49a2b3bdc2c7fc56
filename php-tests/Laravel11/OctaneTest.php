<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel11;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;
use RustEcho\Tests\Support\Wait;

/**
 * Laravel Octane on real Swoole workers beside `php artisan rust-echo:serve`, no Redis process:
 * every way an Octane app broadcasts reaches laravel-echo clients exactly once over the ring.
 */
final class OctaneTest extends TestCase
{
    protected function setUp(): void
    {
        if (! App::hasSwoole()) {
            App::missing('ext-swoole is not installed (run scripts/setup-laravel11.sh swoole)');
        }
    }

    public function testRequestsTasksQueuedJobsAndCommandsArriveOnceThroughRecyclingAndReload(): void
    {
        $app = new App(swoole: true);
        $serve = $app->serve();
        $octane = $app->octane(['--workers=2', '--task-workers=1', '--max-requests=5']);
        $news = $app->client(['news'], 'ping');
        $queued = $app->client(['news'], 'queued.ping');

        $expected = [];
        $pids = [];
        for ($i = 0; $i < 20; $i++) {
            [$status, $body] = $app->get("/ping/request-$i");
            $this->assertSame(200, $status, json_encode($body));
            $pids[$body['pid']] = true;
            $expected[] = "request-$i";
        }
        // 2 workers recycled every 5 requests: at least 4 worker processes served the 20.
        $this->assertGreaterThanOrEqual(4, count($pids), 'max-requests recycled the workers');

        [$status, $body] = $app->get('/concurrently/task/3');
        $this->assertSame(200, $status, json_encode($body));
        $this->assertCount(3, $body['pids']);
        $this->assertEmpty(array_intersect_key(array_flip($body['pids']), $pids), 'the tasks ran in a task worker');
        array_push($expected, 'task 0', 'task 1', 'task 2');

        $this->assertSame([200, ['queued' => 'by-queue-work']], $app->get('/queued/by-queue-work'));
        $app->run(['queue:work', '--stop-when-empty']);
        $app->run(['app:ping', 'from-a-command']);
        $expected[] = 'from-a-command';

        $this->assertStringContainsString('Reloading workers', $app->run(['octane:reload']));
        Wait::until('a request served after the reload', function () use ($app) {
            return $app->get('/ping/after-reload')[0] === 200;
        });
        $expected[] = 'after-reload';

        $app->run(['app:ping', 'marker']);
        $expected[] = 'marker';
        $received = array_column($news->until(['text' => 'marker', 'channel' => 'news', 'socket' => null]), 'data');
        $texts = array_column($received, 'text');
        $this->assertSame('marker', end($texts));
        sort($texts);
        sort($expected);
        $this->assertSame($expected, $texts, 'every broadcast exactly once');
        $this->assertSame([['text' => 'by-queue-work', 'channel' => 'news']], $queued->events());
        $this->assertStringNotContainsStringIgnoringCase('redis', $serve->errors() . $octane->errors());
    }

    public function testEachTransportWithTheServerStoppedThenStarted(): void
    {
        $redisPort = Paths::freePort();
        $args = ['--port', (string) $redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
        $redis = new Process(['redis-server', ...$args]);
        $redis->waitFor('Ready to accept connections');
        $monitor = new Process(['redis-cli', '-p', (string) $redisPort, '--raw', 'psubscribe', '*']);
        $monitor->waitFor("psubscribe\n*\n1\n");

        $app = new App(swoole: true);
        $octane = $app->octane(['--workers=2', '--task-workers=1'], ['REDIS_PORT' => (string) $redisPort]);
        $json = ['Accept' => 'application/json'];

        [$status, $body] = $app->get('/via/rust-extension/x', $json);
        $this->assertSame(500, $status);
        $this->assertStringStartsWith('No rust-echo server is reachable from this process', $body['message']);

        // auto without a server falls back to Redis, exactly as Laravel's redis driver.
        $this->assertSame(200, $app->get('/via/rust-auto/auto-to-redis', $json)[0]);
        $this->assertSame(200, $app->get('/via/rust-redis/redis-only', $json)[0]);
        // Laravel's Redis prefix (APP_NAME "Laravel") on the channel, as its redis driver sends.
        $onRedis = fn () => substr_count($monitor->output(), "pmessage\n*\nlaravel_database_news\n") >= 2;
        Wait::until('both on Redis', $onRedis, $monitor->output(...));
        $this->assertStringContainsString('{"event":"ping","data":{"text":"auto-to-redis"', $monitor->output());
        $this->assertStringContainsString('{"event":"ping","data":{"text":"redis-only"', $monitor->output());

        // Redis gone too: auto fails with Laravel's Redis error and a hint, and the worker lives on.
        $redis->signal(SIGKILL);
        $redis->wait();
        [$status, $body] = $app->get('/via/rust-auto/nowhere', $json);
        $this->assertSame(500, $status);
        $this->assertStringStartsWith('Redis error: ', $body['message']);
        $this->assertStringContainsString('long-lived workers publish without Redis', $body['message']);

        // The same workers, once the server runs, publish over the ring with every rust transport but redis.
        $serve = $app->serve();
        $news = $app->client(['news'], 'ping');
        for ($i = 0; $i < 4; $i++) {
            $this->assertSame(200, $app->get("/via/rust-extension/ext-$i", $json)[0]);
            $this->assertSame(200, $app->get("/via/rust-auto/auto-$i", $json)[0]);
        }
        $app->run(['app:ping', 'marker']);
        $lines = $news->until(['text' => 'marker', 'channel' => 'news', 'socket' => null]);
        $texts = array_column(array_column($lines, 'data'), 'text');
        $inOrder = ['ext-0', 'auto-0', 'ext-1', 'auto-1', 'ext-2', 'auto-2', 'ext-3', 'auto-3', 'marker'];
        $this->assertSame($inOrder, $texts);
        unset($octane, $serve);
    }
}
