"""The driver registry finds the protocol drivers flexhub ships by their entry point names and
names the installed ones when asked for one that is not there."""

from __future__ import annotations

import pytest

from flexhub.agent.drivers import HourlyMeter, ReportsResults, available_drivers, load_driver
from flexhub.agent.drivers.ocpp import OcppDriver
from flexhub.agent.drivers.s2 import S2Driver
from flexhub.clock import SystemClock


def test_the_protocol_drivers_are_found_by_name():
    assert {"ocpp", "s2"} <= set(available_drivers())
    assert load_driver("ocpp") is OcppDriver
    assert load_driver("s2") is S2Driver
    driver = load_driver("ocpp")({"port": 0}, SystemClock())
    assert driver.csms is None  # nothing listens before start()
    for name in ("ocpp", "s2"):  # what the agent's reports may use beyond the protocol
        built = load_driver(name)({}, SystemClock())
        assert isinstance(built, HourlyMeter) and isinstance(built, ReportsResults)
    assert not isinstance(object(), HourlyMeter)


def test_an_unknown_driver_is_a_clear_lookup_error():
    with pytest.raises(LookupError) as error:
        load_driver("modbus")
    message = str(error.value)
    assert message.startswith("no driver 'modbus' is installed (installed: ")
    assert "ocpp" in message and "s2" in message
