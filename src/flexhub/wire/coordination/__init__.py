"""Energy Coordination API v1 wire models, named as the official OpenAPI document names its
schemas (camelCase fields, as on the wire).

``*Request`` models are what a partner sends: unknown fields are refused and types are not
coerced (``additionalProperties: false``); an explicit ``null`` in an optional field means "not
given", as generated clients send it. Responses, event payloads and notifications ignore
fields they do not know. Times are aware datetimes inside and ISO-8601 with an offset on the
wire (``2026-03-04T23:00:00+00:00``, as the document's examples write them).
"""
