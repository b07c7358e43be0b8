"""The platform's operator dashboard at ``/dashboard``: server-rendered pages over the platform's
tables (competitions, obligations, dispatch instructions and their webhook deliveries,
neighbourhoods, events with their price curves, webhook health and delivery logs). Read only."""
