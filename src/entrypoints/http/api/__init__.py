"""The /api/v1 controllers: each translates HTTP to one application call and back."""
