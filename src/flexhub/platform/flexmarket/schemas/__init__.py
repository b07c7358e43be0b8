"""Flex Market request parsing beyond the wire models of ``flexhub.wire.flexmarket`` (which are
the request bodies): the list filters taken from the query string."""
