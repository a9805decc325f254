"""The provisioning engine: drives a board through its cycle over a Link; no Textual here."""
