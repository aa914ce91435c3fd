"""Carrier adapters on the vendors' REST APIs (UPS direct, ShipEngine), with httpx (ADR 0028)."""
