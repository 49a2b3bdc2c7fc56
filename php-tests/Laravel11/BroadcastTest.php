<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel11;

use PHPUnit\Framework\TestCase;

/**
 * The package in a real Laravel 11 app (skeleton + install:broadcasting, BROADCAST_CONNECTION=rust,
 * no Redis running): `php artisan rust-echo:serve`, `php -S` workers and artisan processes
 * publishing over the shared-memory ring to real laravel-echo clients.
 */
final class BroadcastTest extends TestCase
{
    private const ORDER_SHIPPED = 'App\\Events\\OrderShipped';

    public function testRequestsAndCommandsBroadcastOverTheRingExactlyOnce(): void
    {
        $app = new App();
        $serve = $app->serve();
        $web = $app->web();
        $news = $app->client(['news'], 'ping');

        [$status, $body] = $app->get('/ping/from-a-request');
        $this->assertSame([200, 'from-a-request'], [$status, $body['sent'] ?? $body]);
        $this->assertStringContainsString('sent from-a-command', $app->run(['app:ping', 'from-a-command']));
        $app->run(['app:ping', 'marker']);

        $ping = static fn (string $text) => ['text' => $text, 'channel' => 'news', 'socket' => null];
        $this->assertSame(
            [$ping('from-a-request'), $ping('from-a-command'), $ping('marker')],
            array_column($news->until($ping('marker')), 'data'),
            'each event once, in order, and nothing else before the marker',
        );
        $stats = json_decode((string) file_get_contents("{$app->echoUrl}/apps/app/status?auth_key=secret"), true);
        $this->assertArrayHasKey('redis_connected', $stats);
        $this->assertFalse($stats['redis_connected'], 'no Redis subscriber where none is configured');
        $this->assertStringNotContainsStringIgnoringCase('redis', $serve->errors(), 'no Redis warnings');
        unset($web);
    }

    public function testPrivateAndPresenceChannelsAuthorizeThroughBroadcastingAuth(): void
    {
        $app = new App();
        $serve = $app->serve();
        $web = $app->web();
        $alice = $app->client(['private:orders.1', 'private:orders.2', 'presence:chat'], self::ORDER_SHIPPED, 1);
        $this->assertContains(['channel' => 'private-orders.2', 'error' => 403], $alice->lines(), 'not her order');
        $this->assertContains(
            ['channel' => 'presence-chat', 'presence' => 'here', 'data' => [['id' => 1, 'name' => 'user 1']]],
            $alice->lines(),
        );
        $bob = $app->client(['presence:chat'], self::ORDER_SHIPPED, 2);
        $joined = ['channel' => 'presence-chat', 'presence' => 'joining', 'data' => ['id' => 2, 'name' => 'user 2']];
        \RustEcho\Tests\Support\Wait::until('Alice sees Bob join', fn () => in_array($joined, $alice->lines(), true));

        $this->assertSame(200, $app->get('/ship/1')[0]);
        $this->assertSame(200, $app->get('/ship/2')[0]);
        $this->assertSame(200, $app->get('/ship/3?chat=1')[0]);

        $order = static fn (int $id, bool $chat) => ['id' => $id, 'chat' => $chat, 'socket' => null];
        $alice->until($order(3, true));
        $bob->until($order(3, true));
        $this->assertSame([$order(1, false), $order(3, true)], $alice->events(), 'her order and the chat, not order 2');
        $this->assertSame([$order(3, true)], $bob->events());
        unset($serve, $web);
    }

    public function testToOthersSkipsTheSocketNamedInXSocketId(): void
    {
        $app = new App();
        $serve = $app->serve();
        $web = $app->web();
        $sender = $app->client(['news'], 'ping');
        $other = $app->client(['news'], 'ping');

        $this->assertSame(200, $app->get('/others/not-for-the-sender', ['X-Socket-ID' => $sender->socketId()])[0]);
        $this->assertSame(200, $app->get('/others/for-everyone')[0]);

        $ping = static fn (string $text, ?string $socket)
            => ['text' => $text, 'channel' => 'news', 'socket' => $socket];
        $this->assertSame(
            [$ping('not-for-the-sender', $sender->socketId()), $ping('for-everyone', null)],
            array_column($other->until($ping('for-everyone', null)), 'data'),
        );
        $marker = $ping('for-everyone', null);
        $first = array_column($sender->until($marker), 'data');
        $this->assertSame([$marker], $first, 'the first event the sender sees is the marker');
        unset($serve, $web);
    }

    public function testQueuedBroadcastsRunByQueueWorkAndImmediateOnes(): void
    {
        $app = new App();
        $serve = $app->serve();
        $web = $app->web();
        $news = $app->client(['news'], 'queued.ping');
        $now = $app->client(['news'], 'ping');

        $this->assertSame([200, ['queued' => 'q1']], $app->get('/queued/q1'));
        $this->assertSame([200, ['queued' => 'q2']], $app->get('/queued/q2'));
        // ShouldBroadcastNow passes the queue by; the queued events wait for a worker.
        $app->get('/ping/now');
        $now->until(['text' => 'now', 'channel' => 'news', 'socket' => null]);
        $this->assertSame([], $news->events(), 'nothing is broadcast before a worker runs the jobs');

        $app->run(['queue:work', '--stop-when-empty']);
        $app->run(['app:ping', 'marker']);
        $now->until(['text' => 'marker', 'channel' => 'news', 'socket' => null]);
        $this->assertSame(
            [['text' => 'q1', 'channel' => 'news'], ['text' => 'q2', 'channel' => 'news']],
            $news->until(['text' => 'q2', 'channel' => 'news']) ? $news->events() : [],
        );
        unset($serve, $web);
    }

    public function testServeBannerAndStatus(): void
    {
        $app = new App();
        $serve = $app->serve();
        $this->assertStringContainsString(
            "rust-echo on {$app->echoUrl}, run by the rust_echo extension, in this process",
            $serve->output(),
        );
        $this->assertStringContainsString("shared-memory ring rust-echo-{$app->echoPort}", $serve->output());
        $client = $app->client(['news', 'orders'], 'ping');

        $status = $app->run(['rust-echo:status']);
        $this->assertMatchesRegularExpression("#\\| {$app->echoUrl} \\| 1 +\\| 2 +\\| \\d+s +\\|#", $status);

        $serve->signal(SIGTERM);
        $this->assertSame(0, $serve->wait(15), $serve->errors());
        $this->assertStringContainsString('rust-echo stopped.', $serve->output());
        $this->assertFalse(@file_get_contents("{$app->echoUrl}/"));
        unset($client);
    }
}
