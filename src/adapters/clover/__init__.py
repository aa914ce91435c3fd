"""Clover REST v3 as the POS port (ADR 0042)."""
