"""`station bench`: the figures of DESIGN section 7, measured here, each against its target."""
