"""The operator's app (Textual). Thin: renders :mod:`station.line` values, runs workers."""
