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
 * a dead server, a restarted server, a full ring, a producer killed mid-write. No assertion
 * measures a duration; deadlines only turn a hang into a failure.
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

    /**
     * A publisher process keeps publishing while its server is SIGKILLed: publish() keeps
     * returning (it never waits on the dead server) and turns false once the heartbeat is stale;
     * when a server starts again on the same ring, the same PHP process re-attaches by name.
     * Process::waitFor's generous limit turns a hang into a failure; no duration is asserted.
     */
    public function testKilledServerMakesPublishFalseAndTheSameProcessReattachesAfterARestart(): void
    {
        $server = new EchoServer();
        $go = Paths::tempDir('rust-echo-reattach') . '/go';
        $script = <<<'PHP'
            ini_set('rust_echo.ring', $argv[1]);
            while (RustEcho\publish(['c'], 'E', '1') !== 'shm') {
                usleep(10_000);
            }
            echo "attached\n";
            while (($via = RustEcho\publish(['c'], 'E', '2')) === 'shm') {
                usleep(20_000);
            }
            echo 'gone ', var_export($via, true), "\n";
            while (! file_exists($argv[2])) {
                usleep(10_000);
            }
            while (RustEcho\publish(['c'], 'E', '3') !== 'shm') {
                usleep(20_000);
            }
            echo "back pid=", getmypid(), "\n";
            PHP;
        $php = [PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension()];
        $publisher = new Process([...$php, '-r', $script, $server->ring, $go]);
        $publisher->waitFor("attached\n", 30);

        $server->process()->signal(SIGKILL);
        $publisher->waitFor("gone false\n", 30);

        $again = new EchoServer(port: $server->port);
        $listener = new Listener($again->url, ['c']);
        touch($go);
        $publisher->waitFor("back pid={$publisher->pid()}\n", 30);
        $this->assertSame(0, $publisher->wait(), $publisher->errors());
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
        while (\RustEcho\publish(['full'], 'E', $data) === 'shm') {
            $accepted++;
        }
        $this->assertGreaterThan(20, $accepted);
        $this->assertLessThan(33, $accepted, '64 KiB hold at most 32 records of 2 KB');
        $server->process()->signal(SIGCONT);
        $this->assertCount($accepted, $listener->take($accepted));
        // A generous guard against a hang, not a measured duration.
        $deadline = microtime(true) + 30;
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
        $deadline = microtime(true) + 30;
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
        $deadline = microtime(true) + 30;
        while (\RustEcho\publish(['marker'], 'E', '"alive"') !== 'shm') {
            $this->assertLessThan($deadline, microtime(true), 'ring still refuses publishes');
            usleep(50_000);
        }
        $this->assertSame('alive', $listener->take(1, 5)[0]['data']);
    }
}
