<?php

return [

    /*
    |--------------------------------------------------------------------------
    | Listener
    |--------------------------------------------------------------------------
    |
    | Where the Socket.IO server listens. laravel-echo in the browser connects
    | here (host, port, and the Socket.IO path). The package listens on the
    | loopback interface unless told otherwise, and needs to know the port to
    | find the server (rust-echo:status, the ring's name).
    |
    | Every other setting below is passed to the server only when set: left
    | null, the server's own default applies (see docs/compatibility.md).
    |
    */

    'host' => env('RUST_ECHO_HOST', '127.0.0.1'),

    'port' => (int) env('RUST_ECHO_PORT', 6001),

    'path' => env('RUST_ECHO_PATH'),

    'dev_mode' => env('RUST_ECHO_DEV_MODE'),

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
        'endpoint' => env('RUST_ECHO_AUTH_ENDPOINT'),
        'timeout' => env('RUST_ECHO_AUTH_TIMEOUT'),
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
        'cert' => env('RUST_ECHO_TLS_CERT'),
        'key' => env('RUST_ECHO_TLS_KEY'),
        'chain' => env('RUST_ECHO_TLS_CHAIN'),
        'passphrase' => env('RUST_ECHO_TLS_PASSPHRASE'),
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
    | Pusher Apps
    |--------------------------------------------------------------------------
    |
    | Apps for the Pusher protocol on /app/{key}: laravel-echo's `reverb` and
    | `pusher` broadcasters connect there, and Laravel's `reverb` and `pusher`
    | broadcast drivers publish through the signed HTTP API. The first app
    | shares its channels with the Socket.IO clients. By default it is the app
    | Reverb's own REVERB_APP_* variables describe, so a Reverb .env works as
    | it is. An app without id, key or secret is left out. The Pusher protocol
    | is served on the server's port, and also on `pusher_port` when set.
    |
    */

    'pusher_port' => env('RUST_ECHO_PUSHER_PORT'),

    'apps' => [
        [
            'id' => env('REVERB_APP_ID'),
            'key' => env('REVERB_APP_KEY'),
            'secret' => env('REVERB_APP_SECRET'),
            'allowed_origins' => null,
            'ping_interval' => env('REVERB_APP_PING_INTERVAL'),
            'activity_timeout' => env('REVERB_APP_ACTIVITY_TIMEOUT'),
            'max_message_size' => env('REVERB_APP_MAX_MESSAGE_SIZE'),
            'capacity' => env('REVERB_APP_MAX_CONNECTIONS'),
            'accept_client_events_from' => env('REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM'),
            'rate_limiting' => [
                'enabled' => env('REVERB_APP_RATE_LIMITING_ENABLED'),
                'max_attempts' => env('REVERB_APP_RATE_LIMIT_MAX_ATTEMPTS'),
                'decay_seconds' => env('REVERB_APP_RATE_LIMIT_DECAY_SECONDS'),
                'terminate_on_limit' => env('REVERB_APP_RATE_LIMIT_TERMINATE'),
            ],
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

    'allowed_origins' => env('RUST_ECHO_ALLOWED_ORIGINS'),

    /*
    |--------------------------------------------------------------------------
    | Trusted Proxies
    |--------------------------------------------------------------------------
    |
    | Addresses or CIDR ranges (comma-separated) of proxies in front of the
    | server whose X-Forwarded-For reaches the auth endpoint as they sent it;
    | from any other peer the peer address is appended.
    |
    */

    'trusted_proxies' => env('RUST_ECHO_TRUSTED_PROXIES'),

    /*
    |--------------------------------------------------------------------------
    | Limits
    |--------------------------------------------------------------------------
    |
    | Bounds on what one client can make the server hold.
    |
    */

    'limits' => [
        'max_payload' => env('RUST_ECHO_MAX_PAYLOAD'),
        'max_channels_per_socket' => env('RUST_ECHO_MAX_CHANNELS_PER_SOCKET'),
        'max_buffered_packets' => env('RUST_ECHO_MAX_BUFFERED_PACKETS'),
        'max_connections' => env('RUST_ECHO_MAX_CONNECTIONS'),
        'max_concurrent_auth' => env('RUST_ECHO_MAX_CONCURRENT_AUTH'),
        'client_events_per_second' => env('RUST_ECHO_CLIENT_EVENTS_PER_SECOND'),
        'client_event_burst' => env('RUST_ECHO_CLIENT_EVENT_BURST'),
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
        'enabled' => env('RUST_ECHO_METRICS'),
        'host' => env('RUST_ECHO_METRICS_HOST'),
        'port' => env('RUST_ECHO_METRICS_PORT'),
    ],

    /*
    |--------------------------------------------------------------------------
    | Redis Subscriber
    |--------------------------------------------------------------------------
    |
    | The server also subscribes to Redis, so events published by other hosts
    | (or by processes without the extension) arrive. The connection and the
    | key prefix come from Laravel's own config/database.php. Unset, it does so
    | only when the app already uses Redis (the redis broadcaster or transport,
    | or a Redis queue, cache or session); a Redis-free app opens no connection.
    |
    */

    'redis' => [
        'enabled' => env('RUST_ECHO_REDIS'),
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
        'enabled' => env('RUST_ECHO_SHM'),
        'name' => env('RUST_ECHO_SHM_NAME'),
        'size' => env('RUST_ECHO_SHM_SIZE'),
        'mode' => env('RUST_ECHO_SHM_MODE'),
    ],

    /*
    |--------------------------------------------------------------------------
    | Several Servers (Cluster)
    |--------------------------------------------------------------------------
    |
    | Run several servers behind a load balancer on one Redis: events that
    | enter one server (ring, in-process, HTTP API, whispers) reach the clients
    | of all of them, and presence channels have one member list for the whole
    | cluster. Redis is the Redis subscriber's connection unless `connection`
    | names another one of config/database.php (a Redis Cluster defined under
    | `database.redis.clusters` works too). Servers with the same Redis and
    | namespace form one cluster.
    |
    */

    'cluster' => [
        'enabled' => env('RUST_ECHO_CLUSTER'),
        'namespace' => env('RUST_ECHO_CLUSTER_NAMESPACE'),
        'connection' => env('RUST_ECHO_CLUSTER_CONNECTION'),
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
