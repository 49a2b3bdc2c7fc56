<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel;

use Illuminate\Auth\GenericUser;

/**
 * POST /broadcasting/auth through the real HTTP kernel answers exactly as with Laravel's own
 * RedisBroadcaster, for every case laravel-echo meets.
 */
final class AuthTest extends TestCase
{
    /**
     * @return array<string, array{0: string, 1: ?string, 2: int, 3: string}>
     */
    public static function cases(): array
    {
        return [
            'own private channel' => ['private-orders.1', 'web', 200, 'true'],
            'prefixed private channel' => ['laravel_database_private-orders.1', 'web', 200, 'true'],
            'other user\'s channel' => ['private-orders.2', 'web', 403, ''],
            'presence member data' => [
                'presence-chat',
                'web',
                200,
                '{"channel_data":{"user_id":1,"user_info":{"id":1,"name":"Ada"}}}',
            ],
            'presence returning true' => ['presence-truthy', 'web', 200, 'true'],
            'unauthenticated' => ['private-orders.1', null, 403, ''],
            'unknown channel' => ['private-nothing', 'web', 403, ''],
            'guarded, wrong guard' => ['private-admin.1', 'web', 403, ''],
            'guarded, right guard' => ['private-admin.1', 'admin', 200, 'true'],
            'empty channel name' => ['', 'web', 403, ''],
        ];
    }

    /**
     * @dataProvider cases
     */
    public function testSameAnswerAsRedisBroadcaster(string $channel, ?string $guard, int $status, string $body): void
    {
        $answers = [];
        foreach (['redis', 'rust'] as $driver) {
            // Channels are registered on the default driver while the app boots.
            putenv("BROADCAST_DRIVER=$driver");
            $this->refreshApplication();
            $this->assertSame($driver, config('broadcasting.default'));
            if ($guard !== null) {
                $this->actingAs(new GenericUser(['id' => 1, 'name' => 'Ada']), $guard);
            }
            // The headers rust-echo's auth requests carry.
            $headers = ['X-Requested-With' => 'XMLHttpRequest', 'Accept' => '*/*'];
            $response = $this->post('/broadcasting/auth', ['channel_name' => $channel], $headers);
            $content = $response->getStatusCode() === 200 ? $response->getContent() : '';
            $answers[$driver] = [$response->getStatusCode(), $content];
        }
        putenv('BROADCAST_DRIVER');
        $this->assertSame($answers['redis'], $answers['rust'], 'identical to RedisBroadcaster');
        $this->assertSame([$status, $body], $answers['rust']);
    }
}
