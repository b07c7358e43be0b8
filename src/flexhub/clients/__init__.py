"""HTTP clients of both APIs, one per role pair (aiohttp), usable on their own: by the agent,
the simulator and a provider's own scripts.

- :class:`CoordinationClient`: a partner of the Energy Coordination API v1;
- :class:`CoordinationOperatorClient`: its operator endpoints (neighbourhoods, price-curve runs);
- :class:`FlexMarketProviderClient`: a flexibility provider on the Flex Market API v1;
- :class:`FlexMarketOperatorClient`: a system operator on the Flex Market API v1.

Each is an async context manager (``close()`` too), takes its API's base URL, credentials,
an optional token URL, an optional shared ``aiohttp.ClientSession`` and a ``timeout``. Tokens
are cached and refreshed before they expire; a 401 causes one new token and one more try;
429, 502/503/504 and connection failures are retried with exponential backoff that honours
``Retry-After`` (tenacity). Anything else outside 2xx raises :class:`ApiError`.
"""

from flexhub.clients.coordination import CoordinationClient
from flexhub.clients.coordination_operator import CoordinationOperatorClient
from flexhub.clients.errors import ApiError, ClientError, TransportError, UnexpectedAnswer
from flexhub.clients.flexmarket_operator import FlexMarketOperatorClient
from flexhub.clients.flexmarket_provider import FlexMarketProviderClient
from flexhub.clients.paging import collect
from flexhub.clients.retry import NO_RETRY, RetryPolicy

__all__ = [
    "NO_RETRY",
    "ApiError",
    "ClientError",
    "CoordinationClient",
    "CoordinationOperatorClient",
    "FlexMarketOperatorClient",
    "FlexMarketProviderClient",
    "RetryPolicy",
    "TransportError",
    "UnexpectedAnswer",
    "collect",
]
