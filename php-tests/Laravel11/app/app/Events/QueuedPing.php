<?php

namespace App\Events;

use Illuminate\Broadcasting\Channel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcast;

/**
 * Broadcast by a queue worker (the app's default queue connection).
 */
class QueuedPing implements ShouldBroadcast
{
    /**
     * Create a new event instance.
     */
    public function __construct(public string $text, public string $channel = 'news')
    {
    }

    /**
     * Get the channels the event should broadcast on.
     */
    public function broadcastOn(): Channel
    {
        return new Channel($this->channel);
    }

    /**
     * Get the event's broadcast name.
     */
    public function broadcastAs(): string
    {
        return 'queued.ping';
    }
}
