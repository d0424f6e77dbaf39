"""Consensus-exact protocol rules (no I/O)."""
