<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Server;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;

/**
 * The server hosted in this PHP process; events published in-process reach a real
 * laravel-echo client exactly once, in order.
 *
 * @requires extension rust_echo
 */
final class InProcessTest extends TestCase
{
    private string $url;

    protected function setUp(): void
    {
        $port = Paths::freePort();
        $this->url = "http://127.0.0.1:$port";
        Server::start([
            'host' => '127.0.0.1',
            'port' => $port,
            'clients' => [['appId' => 'app', 'key' => 'secret']],
            'subscribers' => ['redis' => false],
        ]);
    }

    protected function tearDown(): void
    {
        Server::stop();
    }

    public function testEveryEventArrivesOnceInOrder(): void
    {
        $v4 = new Listener($this->url, ['news']);
        $v2 = new Listener($this->url, ['news'], 'E', true);
        for ($i = 0; $i < 1000; $i++) {
            $this->assertSame('memory', \RustEcho\publish(['news'], 'E', json_encode(['i' => $i])));
        }
        foreach ([$v4, $v2] as $listener) {
            $events = $listener->take(1000);
            $this->assertSame(range(0, 999), array_map(static fn (array $e) => $e['data']['i'], $events));
            $this->assertSame(['news'], array_values(array_unique(array_column($events, 'channel'))));
        }
        $this->assertSame(1000, Server::stats()['messages_in']['memory']);
    }

    public function testDataIsForwardedAsPublished(): void
    {
        $listener = new Listener($this->url, ['orders', 'other']);
        $data = '{"total":1.50,"items":[1,2],"socket":null,"text":"caf\u00e9"}';
        $this->assertSame('memory', \RustEcho\publish(['orders', 'other'], 'E', $data, 'not-a-connected-socket'));
        $events = $listener->take(2);
        $this->assertSame(['orders', 'other'], array_column($events, 'channel'));
        $this->assertSame(json_decode($data, true), $events[0]['data']);
    }
}
