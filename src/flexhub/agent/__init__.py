"""The provider gateway: API clients, webhook receiver, inbox, dispatch, optimizer, drivers."""
