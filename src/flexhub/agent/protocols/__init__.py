"""Device protocols the agent speaks to real equipment, each behind a small async API that a
driver adapter presents to the agent:

- ``ocpp`` — an OCPP 2.0.1 (and 1.6) charging station management system (CSMS): EV chargers
  connect to it over WebSocket and take charging profiles;
- ``s2`` — an S2 (EN 50491-12-2) customer energy manager (CEM): devices' resource managers
  connect to it over WebSocket and take fill-rate (FRBC) or power-envelope (PEBC) instructions.

Shared here: schedules as periods (``periods``), energy per hour from readings (``hourly``),
event listeners (``listeners``) and the clock they read (``clocks``).
"""
