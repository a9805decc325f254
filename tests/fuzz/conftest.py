"""The engine's real station home and StationContext, shared with tests/engine."""

from tests.engine.conftest import home, station, template_home

__all__ = ["home", "station", "template_home"]
