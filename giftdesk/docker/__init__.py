"""The one way to Docker: the client pool of an engine and the adapter over it.

On the ground floor (it imports ``core`` only) so that features may use it: ``clients`` (the pool
the runtime owns, one per engine), ``api`` (the calls, streams and builds, with the domain's
errors), ``state`` (whether the engine answers), ``engine`` (engine info and the connection
test), ``stats`` (docker stats' formulas) and ``bridge`` (how containers reach this host). What
makes a container one of ours (labels, config) is the fleet's: ``giftdesk.fleet.docker_api``.
"""
