<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Server;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;

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

    public function testPhpValuesAreEncodedAsJsonEncodeWould(): void
    {
        $values = [
            'map' => ['id' => 7, 'total' => 1.5, 'whole' => 2.0, 'ok' => true, 'none' => null, 'socket' => null],
            'list' => [1, 'two', [3, [4]], []],
            'sparse keys' => [1 => 'a', 2 => 'b'],
            'mixed keys' => [0 => 'a', 'k' => 'b', 5 => 'c'],
            'text' => ['q' => "quote \" back \\ slash / nl \n tab \t ctl \x01 café ✓"],
            'scalar' => 42,
            'empty' => [],
            'object' => ['at' => new \DateTimeImmutable('2026-01-02T03:04:05+00:00'), 'o' => (object) ['x' => 1]],
        ];
        $listener = new Listener($this->url, ['enc']);
        foreach ($values as $value) {
            $this->assertSame('memory', \RustEcho\publish(['enc'], 'E', $value));
        }
        $events = $listener->take(count($values));
        foreach (array_values($values) as $i => $value) {
            // Equal, not identical: the listener is JavaScript, which lists integer keys first.
            $this->assertEquals(json_decode((string) json_encode($value), true), $events[$i]['data'], (string) $i);
        }
    }

    public function testValuesJsonCannotHoldAreRefusedWithPhpsReason(): void
    {
        foreach (
            [
                [["bad \xB1 utf-8"], 'Malformed UTF-8 characters, possibly incorrectly encoded'],
                [['n' => NAN], 'Inf and NaN cannot be JSON encoded'],
            ] as [$value, $reason]
        ) {
            try {
                \RustEcho\publish(['enc'], 'E', $value);
                $this->fail('published');
            } catch (\RustEcho\Exception\PublishException $e) {
                $this->assertSame("data cannot be encoded as JSON: $reason", $e->getMessage());
            }
        }
        $this->assertSame(0, Server::stats()['messages_in']['memory']);
    }

    public function testAnExceptionInJsonSerializeLeavesPublishingWorking(): void
    {
        $listener = new Listener($this->url, ['enc']);
        $throwing = new class implements \JsonSerializable {
            public function jsonSerialize(): mixed
            {
                throw new \DomainException('not today');
            }
        };
        // PHP's own exception reaches the caller, as from json_encode().
        try {
            \RustEcho\publish(['enc'], 'E', ['x' => $throwing]);
            $this->fail('published');
        } catch (\DomainException $e) {
            $this->assertSame('not today', $e->getMessage());
        }
        $this->assertSame('memory', \RustEcho\publish(['enc'], 'E', ['after' => (object) ['ok' => true]]));
        $this->assertSame(['after' => ['ok' => true]], $listener->take(1)[0]['data']);
    }

    /**
     * A fatal error inside jsonSerialize() unwinds PHP with a bailout, past the extension's
     * frames; a shutdown function of the same process publishes afterwards and must succeed.
     */
    public function testAFatalErrorInJsonSerializeLeavesPublishingWorking(): void
    {
        $script = <<<'PHP'
            register_shutdown_function(static function () use ($argv) {
                ini_set('rust_echo.ring', $argv[1]);
                try {
                    echo 'after=', var_export(RustEcho\publish(['enc'], 'E', ['after' => (object) []]), true), "\n";
                } catch (Throwable $e) {
                    echo 'after threw ', get_class($e), ': ', $e->getMessage(), "\n";
                }
            });
            $fatal = new class implements JsonSerializable {
                public function jsonSerialize(): mixed
                {
                    trigger_error('fatal inside jsonSerialize', E_USER_ERROR);
                }
            };
            RustEcho\publish(['enc'], 'E', ['x' => $fatal]);
            echo "not reached\n";
            PHP;
        $ring = \RustEcho\ring_name((int) parse_url($this->url, PHP_URL_PORT));
        $listener = new Listener($this->url, ['enc']);
        $p = new Process([PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '-r', $script, $ring]);
        $p->wait();
        $this->assertStringContainsString('fatal inside jsonSerialize', $p->output() . $p->errors());
        $this->assertStringNotContainsString('not reached', $p->output());
        $this->assertStringContainsString("after='shm'\n", $p->output(), $p->errors());
        $this->assertSame(['after' => []], $listener->take(1)[0]['data']);
    }
}
