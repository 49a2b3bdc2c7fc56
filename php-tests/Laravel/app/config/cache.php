<?php

return ['default' => 'array', 'stores' => ['array' => ['driver' => 'array']], 'prefix' => 'rust_echo_tests'];
