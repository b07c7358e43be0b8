"""``flexhub demo``: one flexibility day on one machine. The platform, its delivery worker and a
provider agent on loopback ports; a system operator robot and a grid operator that talk to the
platform only through :mod:`flexhub.clients`; simulated homes whose devices run on an
accelerated :class:`flexhub.clock.ScaledClock`. ``scenario.run_demo`` plays it."""
