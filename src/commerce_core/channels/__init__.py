"""Sales channels beyond the web shop: points of sale (Square, Clover) and their sync (ADR 0034)."""
