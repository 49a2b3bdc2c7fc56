<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel11;

use PHPUnit\Framework\TestCase;

/**
 * A Laravel 11 app switching from `reverb:start` to `rust-echo:serve`: the same `.env`
 * (REVERB_APP_ID, REVERB_APP_KEY, REVERB_APP_SECRET as `install:broadcasting` wrote them) and
 * Laravel's own `reverb` broadcast driver (pusher-php-server, signed HTTP API requests) publish to
 * rust-echo, whose Socket.IO clients share the channels; so does Laravel's `pusher` driver.
 */
final class ReverbDriverTest extends TestCase
{
    public function testLaravelsReverbDriverPublishesToRustEcho(): void
    {
        $app = new App();
        $serve = $app->serve();
        $this->assertMatchesRegularExpression('#Pusher protocol: app \d+ at /app/\w+#', $serve->output());
        $news = $app->client(['news'], 'ping');
        $reverb = [
            'BROADCAST_CONNECTION' => 'reverb',
            'REVERB_HOST' => '127.0.0.1',
            'REVERB_PORT' => (string) $app->echoPort,
            'REVERB_SCHEME' => 'http',
        ];

        $this->assertStringContainsString('sent through-reverb', $app->run(['app:ping', 'through-reverb'], $reverb));
        $app->run(['app:ping', 'marker'], $reverb);

        // Laravel's Pusher broadcaster adds no `socket` key to the data, unlike the `rust` driver.
        $ping = static fn (string $text) => ['text' => $text, 'channel' => 'news'];
        $this->assertSame(
            [$ping('through-reverb'), $ping('marker')],
            array_column($news->until($ping('marker')), 'data'),
            'each event once, in order',
        );

        // A wrong secret is refused: Laravel's driver reports the server's answer, as Reverb's.
        $wrong = $app->artisan(['app:ping', 'refused'], ['REVERB_APP_SECRET' => 'wrong'] + $reverb);
        $this->assertNotSame(0, $wrong->wait(60));
        $this->assertStringContainsString(
            'Pusher error: Authentication signature invalid.',
            $wrong->output() . $wrong->errors(),
        );
        unset($serve);
    }

    public function testLaravelsPusherDriverPublishesToRustEcho(): void
    {
        $app = new App();
        $serve = $app->serve();
        $news = $app->client(['news'], 'ping');
        $env = $app->reverbEnv();
        $pusher = [
            'BROADCAST_CONNECTION' => 'pusher',
            'PUSHER_APP_ID' => $env['REVERB_APP_ID'],
            'PUSHER_APP_KEY' => $env['REVERB_APP_KEY'],
            'PUSHER_APP_SECRET' => $env['REVERB_APP_SECRET'],
            'PUSHER_HOST' => '127.0.0.1',
            'PUSHER_PORT' => (string) $app->echoPort,
            'PUSHER_SCHEME' => 'http',
        ];
        $app->run(['app:ping', 'through-pusher'], $pusher);
        $ping = ['text' => 'through-pusher', 'channel' => 'news'];
        $this->assertSame([$ping], array_column($news->until($ping), 'data'));
        unset($serve);
    }
}
