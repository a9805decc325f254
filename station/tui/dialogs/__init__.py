"""Modal dialogs, each declaring its result type."""
