"""Pure vectorised mining-economics models (no I/O)."""
