"""Click commands, one module per command group. Thin: parse, call the library, print."""
