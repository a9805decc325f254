"""Factory provisioning station: the product package (CLI, PKI, engine, audit, TUI)."""

__version__ = "0.1.0"
