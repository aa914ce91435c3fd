"""Merchant webhooks (ADR 0036): endpoints a tenant registers, and signed deliveries of
the integration events they subscribe to, each sent once per event and endpoint,
retried with backoff for up to three days.

The input is ``WebhookEvent`` (``events.py``): the integration event as this context
needs it. ``order_events.py`` is the one seam that makes them from domain events.
"""
