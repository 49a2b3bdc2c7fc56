<?php

return [

    /*
    |--------------------------------------------------------------------------
    | Listener
    |--------------------------------------------------------------------------
    |
    | Where the Socket.IO server listens. laravel-echo in the browser connects
    | here (host, port, and the Socket.IO path).
    |
    */

    'host' => env('RUST_ECHO_HOST', '127.0.0.1'),

    'port' => (int) env('RUST_ECHO_PORT', 6001),

    'path' => env('RUST_ECHO_PATH', '/socket.io'),

    'dev_mode' => (bool) env('RUST_ECHO_DEV_MODE', false),

    /*
    |--------------------------------------------------------------------------
    | Channel Authorization
    |--------------------------------------------------------------------------
    |
    | Private and presence channels are authorized by POSTing to this app's
    | broadcasting auth route. The host defaults to the app's URL (app.url).
    |
    */

    'auth' => [
        'host' => env('RUST_ECHO_AUTH_HOST'),
        'endpoint' => env('RUST_ECHO_AUTH_ENDPOINT', '/broadcasting/auth'),
        'timeout' => (int) env('RUST_ECHO_AUTH_TIMEOUT', 10000),
    ],

    /*
    |--------------------------------------------------------------------------
    | TLS
    |--------------------------------------------------------------------------
    |
    | Certificate files for serving https/wss directly. Leave empty when a
    | reverse proxy terminates TLS.
    |
    */

    'tls' => [
        'cert' => env('RUST_ECHO_TLS_CERT', ''),
        'key' => env('RUST_ECHO_TLS_KEY', ''),
        'chain' => env('RUST_ECHO_TLS_CHAIN', ''),
        'passphrase' => env('RUST_ECHO_TLS_PASSPHRASE', ''),
    ],

    /*
    |--------------------------------------------------------------------------
    | HTTP API Clients
    |--------------------------------------------------------------------------
    |
    | Credentials for the server's HTTP API (/apps/{appId}/...), used by
    | `php artisan rust-echo:status` and by anything publishing over HTTP.
    |
    */

    'clients' => [
        [
            'appId' => env('RUST_ECHO_APP_ID', 'laravel'),
            'key' => env('RUST_ECHO_APP_KEY', ''),
        ],
    ],

    /*
    |--------------------------------------------------------------------------
    | Allowed Origins
    |--------------------------------------------------------------------------
    |
    | Origins allowed to open a socket; empty allows any. Wildcards such as
    | "*.example.com" are accepted.
    |
    */

    'allowed_origins' => array_filter(explode(',', (string) env('RUST_ECHO_ALLOWED_ORIGINS', ''))),

    /*
    |--------------------------------------------------------------------------
    | Limits
    |--------------------------------------------------------------------------
    |
    | Bounds on what one client can make the server hold.
    |
    */

    'limits' => [
        'max_payload' => (int) env('RUST_ECHO_MAX_PAYLOAD', 100000),
        'max_channels_per_socket' => (int) env('RUST_ECHO_MAX_CHANNELS_PER_SOCKET', 1000),
        'max_buffered_packets' => (int) env('RUST_ECHO_MAX_BUFFERED_PACKETS', 4096),
        'max_connections' => (int) env('RUST_ECHO_MAX_CONNECTIONS', 100000),
        'max_concurrent_auth' => (int) env('RUST_ECHO_MAX_CONCURRENT_AUTH', 100),
        'client_events_per_second' => (int) env('RUST_ECHO_CLIENT_EVENTS_PER_SECOND', 10),
        'client_event_burst' => (int) env('RUST_ECHO_CLIENT_EVENT_BURST', 20),
    ],

    /*
    |--------------------------------------------------------------------------
    | Metrics
    |--------------------------------------------------------------------------
    |
    | Prometheus text at http://host:port/metrics, on a listener of its own.
    |
    */

    'metrics' => [
        'enabled' => (bool) env('RUST_ECHO_METRICS', true),
        'host' => env('RUST_ECHO_METRICS_HOST', '127.0.0.1'),
        'port' => (int) env('RUST_ECHO_METRICS_PORT', 9601),
    ],

    /*
    |--------------------------------------------------------------------------
    | Redis Subscriber
    |--------------------------------------------------------------------------
    |
    | The server also subscribes to Redis, so events published by other hosts
    | (or by processes without the extension) arrive. The connection and the
    | key prefix come from Laravel's own config/database.php.
    |
    */

    'redis' => [
        'enabled' => (bool) env('RUST_ECHO_REDIS', true),
        'connection' => env('RUST_ECHO_REDIS_CONNECTION', 'default'),
    ],

    /*
    |--------------------------------------------------------------------------
    | Shared-Memory Ring
    |--------------------------------------------------------------------------
    |
    | PHP processes on this host (FPM, queue workers, Octane) publish to the
    | server through this ring when the rust_echo extension is loaded. Use a
    | mode such as "0660" when web workers run as another user of the group.
    |
    */

    'shm' => [
        'enabled' => (bool) env('RUST_ECHO_SHM', true),
        'name' => env('RUST_ECHO_SHM_NAME'),
        'size' => (int) env('RUST_ECHO_SHM_SIZE', 16777216),
        'mode' => env('RUST_ECHO_SHM_MODE', '0600'),
    ],

    /*
    |--------------------------------------------------------------------------
    | Standalone Binary
    |--------------------------------------------------------------------------
    |
    | `php artisan rust-echo:serve` runs the server inside PHP when the
    | extension is loaded, and this binary otherwise (a path, or found on PATH).
    |
    */

    'binary' => env('RUST_ECHO_BINARY', 'rust-echo'),

];
