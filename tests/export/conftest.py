"""A real station home (made by `station init`), shared with the engine tests."""

from tests.engine.conftest import home, station, template_home

__all__ = ["home", "station", "template_home"]
