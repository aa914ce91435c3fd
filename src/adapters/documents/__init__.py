"""Printable documents (PDF) made from domain values."""
