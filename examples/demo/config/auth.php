<?php

return [
    'defaults' => ['guard' => 'web'],
    'guards' => ['web' => ['driver' => 'session', 'provider' => 'names']],
    'providers' => ['names' => ['driver' => 'names']],
];
