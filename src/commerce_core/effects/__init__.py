"""External effects: the intents left open, and their recovery (ADR 0016)."""
