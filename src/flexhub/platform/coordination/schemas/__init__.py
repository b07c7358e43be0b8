"""Energy Coordination request parsing beyond the wire models of ``flexhub.wire.coordination``
(which are the request bodies): the ids in request paths."""
