<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Support\Listener;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;

/**
 * The ring between real users (docs/adr/0004-ring-trust.md): the documented 0660 shared-group
 * set-up works with the server and the web worker as two users; another user's ring on our
 * name, a world-writable ring and a link planted at the ring's path are refused. Users are
 * switched with setpriv to unused numeric ids, so the test runs as root.
 *
 * @requires extension rust_echo
 */
final class RingTrustTest extends TestCase
{
    private const SERVER = 7301;

    private const SHARED_GROUP = 7310;

    private const WORKER = 7302;

    private const STRANGER = 7303;

    /** @var list<string> */
    private array $planted = [];

    protected function setUp(): void
    {
        $missing = match (true) {
            posix_geteuid() !== 0 => 'root, to run the server and the publisher as two users',
            trim((string) shell_exec('command -v setpriv')) === '' => 'setpriv (util-linux)',
            default => null,
        };
        if ($missing !== null) {
            if (getenv('CI') === 'true') {
                $this->fail("the ring trust tests need $missing (CI=true: not skipped)");
            }
            $this->markTestSkipped("needs $missing");
        }
    }

    protected function tearDown(): void
    {
        foreach ($this->planted as $path) {
            @unlink($path);
        }
    }

    /**
     * Run $command as $uid:$gid with exactly the supplementary $groups.
     *
     * @param list<int> $groups
     * @param list<string> $command
     * @param array<string, string> $env
     */
    private function asUser(int $uid, int $gid, array $groups, array $command, array $env = []): Process
    {
        $set = $groups === [] ? '--clear-groups' : '--groups=' . implode(',', $groups);

        return new Process(['setpriv', "--reuid=$uid", "--regid=$gid", $set, ...$command], $env);
    }

    /**
     * Start the rust-echo binary as $uid:$gid with ring mode $mode; returns it and its port.
     *
     * @return array{Process, int}
     */
    private function serverAs(int $uid, int $gid, string $mode): array
    {
        $port = Paths::freePort();
        $dir = Paths::tempDir('rust-echo-trust');
        file_put_contents("$dir/laravel-echo-server.json", json_encode([
            'host' => '127.0.0.1',
            'port' => $port,
            'subscribers' => ['redis' => false],
            'metrics' => ['enabled' => false],
            'shm' => ['mode' => $mode],
        ]));
        chown("$dir/laravel-echo-server.json", $uid);
        chown($dir, $uid);
        $server = $this->asUser($uid, $gid, [], [Paths::binary(), 'start', '--dir', $dir], ['RUST_LOG' => 'warn']);
        $server->waitFor('Server ready!');

        return [$server, $port];
    }

    /**
     * Publish one event to $ring from a PHP process running as $uid:$gid (+$groups), or as this
     * user when $uid is null; returns what publish() returned or threw.
     *
     * @param list<int> $groups
     */
    private function publishAs(?int $uid, int $gid, array $groups, string $ring, string $from): string
    {
        $code = 'ini_set("rust_echo.ring", $argv[1]);'
            . ' try { echo var_export(RustEcho\publish(["trust"], "E", ["from" => $argv[2]]), true); }'
            . ' catch (Throwable $e) { echo get_class($e), ": ", $e->getMessage(); }';
        $php = [PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '-r', $code, $ring, $from];
        $p = $uid === null ? new Process($php) : $this->asUser($uid, $gid, $groups, $php);
        $this->assertSame(0, $p->wait(), $p->errors());

        return $p->output();
    }

    public function testTheSharedGroupSetUpWorksBetweenTwoUsers(): void
    {
        [$server, $port] = $this->serverAs(self::SERVER, self::SHARED_GROUP, '0660');
        $ring = \RustEcho\ring_name($port);
        $path = "/dev/shm/$ring";
        clearstatcache();
        $this->assertSame(
            [self::SERVER, self::SHARED_GROUP, '0660'],
            [fileowner($path), filegroup($path), sprintf('%04o', fileperms($path) & 0o7777)],
        );
        $listener = new Listener("http://127.0.0.1:$port", ['trust']);

        $via = $this->publishAs(self::WORKER, self::WORKER, [self::SHARED_GROUP], $ring, 'worker');
        $this->assertSame("'shm'", $via, $server->errors());
        $this->assertSame(['from' => 'worker'], $listener->take(1)[0]['data']);

        // A user outside the group can neither write the ring nor be fooled by it.
        $this->assertSame('false', $this->publishAs(self::STRANGER, self::STRANGER, [], $ring, 'stranger'));
    }

    public function testAnotherUsersServerOnOurRingNameIsRefused(): void
    {
        [$stranger, $port] = $this->serverAs(self::STRANGER, self::STRANGER, '0600');
        $ring = \RustEcho\ring_name($port);

        // Root can open any file: only the owner check keeps it from writing there.
        $refused = $this->publishAs(null, 0, [], $ring, 'root');
        $this->assertStringStartsWith(
            "RustEcho\\Exception\\PublishException: refusing the shared-memory ring /dev/shm/$ring: "
                . 'it belongs to uid ' . self::STRANGER,
            $refused,
            $stranger->errors(),
        );

        // The stranger opens the ring to everyone: still refused, by its mode.
        $chmod = $this->asUser(self::STRANGER, self::STRANGER, [], ['chmod', '0666', "/dev/shm/$ring"]);
        $this->assertSame(0, $chmod->wait(), $chmod->errors());
        $refused = $this->publishAs(self::WORKER, self::WORKER, [self::SHARED_GROUP], $ring, 'worker');
        $this->assertStringContainsString('lets every local user read or write it', $refused);
        $this->assertStringStartsWith('RustEcho\\Exception\\PublishException: ', $refused);
    }

    public function testALinkPlantedAtTheRingPathIsNotFollowed(): void
    {
        // The worker's own server: a ring the worker trusts, at another name.
        [$own, $port] = $this->serverAs(self::WORKER, self::WORKER, '0600');
        $target = '/dev/shm/' . \RustEcho\ring_name($port);
        $name = \RustEcho\ring_name(Paths::freePort());
        $link = "/dev/shm/$name";
        $this->planted[] = $link;
        $plant = $this->asUser(self::STRANGER, self::STRANGER, [], ['ln', '-s', $target, $link]);
        $this->assertSame(0, $plant->wait(), $plant->errors());
        $this->assertTrue(is_link($link));

        $refused = $this->publishAs(self::WORKER, self::WORKER, [], $name, 'worker');
        $this->assertSame(
            "RustEcho\\Exception\\PublishException: refusing the shared-memory ring $link: it is a symbolic link",
            $refused,
            $own->errors(),
        );
    }
}
