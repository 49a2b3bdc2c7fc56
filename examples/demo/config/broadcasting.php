<?php

return [
    'default' => env('BROADCAST_DRIVER', 'rust'),
    'connections' => [
        'rust' => [
            'driver' => 'rust',
            'connection' => 'default',
            'transport' => env('RUST_ECHO_TRANSPORT', 'auto'),
        ],
    ],
];
