<?php

declare(strict_types=1);

namespace RustEcho\Tests\Extension;

use PHPUnit\Framework\TestCase;
use RustEcho\Tests\Support\Paths;
use RustEcho\Tests\Support\Process;

/**
 * An https server hosted by PHP (`Server::serve()`): SIGHUP swaps the certificate while the
 * process keeps serving; SIGTERM still ends it.
 *
 * @requires extension rust_echo
 */
final class TlsTest extends TestCase
{
    private string $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/rust-echo-php-tls-' . getmypid();
        @mkdir($this->dir, 0700, true);
    }

    protected function tearDown(): void
    {
        array_map('unlink', glob($this->dir . '/*') ?: []);
        @rmdir($this->dir);
    }

    public function testSighupReloadsTheCertificateOfServe(): void
    {
        [$certA, $keyA] = $this->selfSigned('php-a');
        [$certB, $keyB] = $this->selfSigned('php-b');
        copy($certA, "$this->dir/server.crt");
        copy($keyA, "$this->dir/server.key");
        $port = Paths::freePort();
        $config = json_encode([
            'host' => '127.0.0.1',
            'port' => $port,
            'protocol' => 'https',
            'sslCertPath' => "$this->dir/server.crt",
            'sslKeyPath' => "$this->dir/server.key",
            'subscribers' => ['redis' => false],
            'metrics' => ['enabled' => false],
            'shm' => ['enabled' => false],
        ]);
        $script = 'RustEcho\Server::serve(json_decode($argv[1], true)); echo "serve returned\n";';
        $p = new Process([PHP_BINARY, '-n', '-d', 'extension=' . Paths::extension(), '-r', $script, $config]);
        $deadline = microtime(true) + 10;
        while ($this->servedName($port, $certA) !== 'php-a') {
            $this->assertLessThan($deadline, microtime(true), $p->errors());
            usleep(20_000);
        }

        copy($certB, "$this->dir/server.crt");
        copy($keyB, "$this->dir/server.key");
        $p->signal(SIGHUP);
        $deadline = microtime(true) + 5;
        while ($this->servedName($port, $certB) !== 'php-b') {
            $this->assertLessThan($deadline, microtime(true), 'new certificate not served: ' . $p->errors());
            usleep(20_000);
        }
        $this->assertNull($this->servedName($port, $certA), 'the old certificate is gone');
        $this->assertTrue($p->running(), 'SIGHUP does not end serve()');

        $p->signal(SIGTERM);
        $this->assertSame(0, $p->wait(10));
        $this->assertSame("serve returned\n", $p->output());
    }

    /**
     * @return array{string, string} certificate and key files for 127.0.0.1 named $cn
     */
    private function selfSigned(string $cn): array
    {
        $cert = "$this->dir/$cn.crt";
        $key = "$this->dir/$cn.key";
        $command = [
            'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-days', '2', '-subj', "/CN=$cn", '-addext', 'subjectAltName=IP:127.0.0.1',
            '-addext', 'basicConstraints=critical,CA:FALSE', '-keyout', $key, '-out', $cert,
        ];
        $p = new Process($command);
        $this->assertSame(0, $p->wait(10), $p->errors());

        return [$cert, $key];
    }

    /**
     * The common name of the certificate the server presents, verified against $ca; null when
     * the handshake fails.
     */
    private function servedName(int $port, string $ca): ?string
    {
        $context = stream_context_create(['ssl' => [
            'cafile' => $ca,
            'verify_peer' => true,
            'peer_name' => '127.0.0.1',
            'capture_peer_cert' => true,
        ]]);
        $s = @stream_socket_client("ssl://127.0.0.1:$port", $errno, $error, 2, STREAM_CLIENT_CONNECT, $context);
        if ($s === false) {
            return null;
        }
        $cert = stream_context_get_params($s)['options']['ssl']['peer_certificate'] ?? null;
        fclose($s);

        return $cert === null ? null : (openssl_x509_parse($cert)['subject']['CN'] ?? null);
    }
}
