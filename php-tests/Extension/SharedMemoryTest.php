<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Support\EchoServer;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;

/**
 * Publishing over the shared-memory ring to a server in another process: forked producers,
 * a dead server, a restarted server, a full ring, a producer killed mid-write.
 *
 * @requires extension rust_echo
 */
final class SharedMemoryTest extends TestCase
{
    protected function tearDown(): void
    {
        ini_restore('rust_echo.ring');
    }

    /**
     * Run bin/produce.php: $producers forked children × $events events on $channel.
     */
    private function produce(string $ring, int $producers, int $events, string $channel): Process
    {
        $script = __DIR__ . '/../bin/produce.php';

        $extension = 'extension=' . Paths::extension();

        $args = [$ring, (string) $producers, (string) $events, $channel];

        return new Process([PHP_BINARY, '-d', $extension, $script, ...$args]);
    }

    /**
     * @param list<array{channel: string, event: string, data: mixed}> $events
     */
    private function assertExactlyOnceInOrder(array $events, int $producers, int $perProducer): void
    {
        $next = array_fill(0, $producers, 0);
        foreach ($events as $e) {
            [$id, $seq] = $e['data'];
            $this->assertSame($next[$id], $seq, "producer $id: expected event {$next[$id]}, got $seq");
            $next[$id]++;
        }
        $this->assertSame(array_fill(0, $producers, $perProducer), $next);
    }

    public function testFourForkedProducersToAnExtensionHostedServer(): void
    {
        $server = new EchoServer(['maxBufferedPackets' => 1 << 20]);
        $listener = new Listener($server->url, ['stress']);
        $producers = $this->produce($server->ring, 4, 10_000, 'stress');
        $events = $listener->take(40_000, 60);
        $this->assertSame(0, $producers->wait(), $producers->errors());
        $this->assertExactlyOnceInOrder($events, 4, 10_000);
    }

    public function testTheStandaloneBinaryServesTheRingToo(): void
    {
        $server = new EchoServer(['maxBufferedPackets' => 1 << 20], binary: true);
        $listener = new Listener($server->url, ['bin']);
        $producers = $this->produce($server->ring, 2, 1_000, 'bin');
        $events = $listener->take(2_000);
        $this->assertSame(0, $producers->wait(), $producers->errors());
        $this->assertExactlyOnceInOrder($events, 2, 1_000);
    }

    public function testForkedChildOfAHostingProcessPublishesOverTheRing(): void
    {
        $port = Paths::freePort();
        $script = __DIR__ . '/../bin/fork_after_start.php';
        $p = new Process([PHP_BINARY, '-d', 'extension=' . Paths::extension(), $script, (string) $port]);
        $p->waitFor("started\n");
        $listener = new Listener("http://127.0.0.1:$port", ['fork']);
        $this->assertSame(0, $p->wait(), $p->output() . $p->errors());
        $this->assertStringContainsString("child running=false via='shm'\n", $p->output());
        $this->assertStringContainsString("parent after fork running=true via=memory\n", $p->output());
        $this->assertStringContainsString("parent running=true via=memory\n", $p->output());
        $data = array_column($listener->take(3), 'data');
        $this->assertSame(['parent', 'child', 'parent again'], $data);
    }

    public function testKilledServerIsNoticedWithinTwoSecondsAndARestartIsFound(): void
    {
        $server = new EchoServer();
        ini_set('rust_echo.ring', $server->ring);
        $this->assertSame('shm', \RustEcho\publish(['c'], 'E', '1'));

        $server->process()->signal(SIGKILL);
        $killedAt = microtime(true);
        $slowest = 0.0;
        do {
            $t = microtime(true);
            $via = \RustEcho\publish(['c'], 'E', '2');
            $slowest = max($slowest, microtime(true) - $t);
            usleep(20_000);
        } while ($via === 'shm' && microtime(true) - $killedAt < 5);
        $this->assertFalse($via);
        $this->assertLessThan(2.5, microtime(true) - $killedAt, 'dead server noticed within 2 s');
        $this->assertLessThan(0.05, $slowest, 'publish never waits on a dead server');

        $again = new EchoServer(port: $server->port);
        $listener = new Listener($again->url, ['c']);
        $this->assertSame('shm', \RustEcho\publish(['c'], 'E', '3'), 'the same process re-attaches by name');
        $this->assertSame(3, $listener->take(1)[0]['data']);
    }

    public function testFullRingIsFalseThenRecovers(): void
    {
        $server = new EchoServer(['shm' => ['size' => 65536]]);
        $listener = new Listener($server->url, ['full']);
        ini_set('rust_echo.ring', $server->ring);
        $server->process()->signal(SIGSTOP);
        $this->waitUntilStopped($server->process()->pid());
        $data = json_encode(str_repeat('x', 2000));
        $accepted = 0;
        $started = microtime(true);
        while (\RustEcho\publish(['full'], 'E', $data) === 'shm') {
            $accepted++;
        }
        $this->assertLessThan(0.5, microtime(true) - $started);
        $this->assertGreaterThan(20, $accepted);
        $this->assertLessThan(33, $accepted, '64 KiB hold at most 32 records of 2 KB');
        $server->process()->signal(SIGCONT);
        $this->assertCount($accepted, $listener->take($accepted));
        $deadline = microtime(true) + 3;
        while (\RustEcho\publish(['full'], 'E', '"after"') !== 'shm') {
            $this->assertLessThan($deadline, microtime(true));
            usleep(50_000);
        }
        $this->assertSame('after', $listener->take($accepted + 1)[$accepted]['data']);
    }

    /**
     * Wait until /proc reports the process as stopped (SIGSTOP is delivered asynchronously).
     */
    private function waitUntilStopped(int $pid): void
    {
        $deadline = microtime(true) + 2;
        while (explode(' ', (string) file_get_contents("/proc/$pid/stat"))[2] !== 'T') {
            $this->assertLessThan($deadline, microtime(true), 'process did not stop');
            usleep(1_000);
        }
    }

    public function testProducerKilledMidWriteDoesNotWedgeTheRing(): void
    {
        $server = new EchoServer(['maxBufferedPackets' => 1 << 20]);
        $listener = new Listener($server->url, ['marker']);
        $loop = 'ini_set("rust_echo.ring", $argv[1]); $d = json_encode(str_repeat("y", 5000));'
            . ' while (true) { RustEcho\publish(["noise"], "E", $d); }';
        for ($i = 0; $i < 5; $i++) {
            $p = new Process([PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '-r', $loop, $server->ring]);
            usleep(random_int(30_000, 80_000));
            $p->signal(SIGKILL);
            $p->wait();
        }
        ini_set('rust_echo.ring', $server->ring);
        $deadline = microtime(true) + 5;
        while (\RustEcho\publish(['marker'], 'E', '"alive"') !== 'shm') {
            $this->assertLessThan($deadline, microtime(true), 'ring still refuses publishes');
            usleep(50_000);
        }
        $this->assertSame('alive', $listener->take(1, 5)[0]['data']);
    }
}
