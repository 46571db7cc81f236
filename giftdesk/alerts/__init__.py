"""Alert rules and the alerts they raise: instances down or unhealthy, restart loops, lives that
ended, a low Fampage balance, unused keys and endpoint error bursts, told on the event bus, in the
log and to a webhook."""
