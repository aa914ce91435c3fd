"""Token-bucket rate limits (pyrate-limiter's GCRA), in memory or shared through Redis."""
