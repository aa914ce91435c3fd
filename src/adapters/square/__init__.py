"""Square: the POS port on the official ``squareup`` SDK (ADR 0034)."""
