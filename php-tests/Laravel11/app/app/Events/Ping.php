<?php

namespace App\Events;

use Illuminate\Broadcasting\Channel;
use Illuminate\Broadcasting\InteractsWithBroadcasting;
use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/**
 * Broadcast in the request, command or task that raises it.
 */
class Ping implements ShouldBroadcastNow
{
    use InteractsWithBroadcasting;
    use InteractsWithSockets;

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
        return 'ping';
    }
}
