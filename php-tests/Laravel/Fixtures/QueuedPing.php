<?php

declare(strict_types=1);

namespace RustEcho\Tests\Laravel\Fixtures;

use Illuminate\Broadcasting\Channel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcast;

class QueuedPing implements ShouldBroadcast
{
    /**
     * Create a new event instance.
     */
    public function __construct(public string $text)
    {
    }

    /**
     * Get the channels the event should broadcast on.
     */
    public function broadcastOn(): Channel
    {
        return new Channel('news');
    }

    /**
     * Get the event's broadcast name.
     */
    public function broadcastAs(): string
    {
        return 'queued.ping';
    }
}
