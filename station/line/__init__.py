"""The line: slots, boards arriving and leaving, the shift's figures. Headless (no Textual).

The TUI renders these values and runs the blocking parts (:mod:`station.line.watch`, the
engine's :class:`~station.engine.cycle.Cycle`) in thread workers.
"""
