"""Sending merchant webhooks over HTTP (httpx) and resolving their hosts."""
