"""Rate limits at the HTTP edge (ADR 0022).

- ``edge``: the limits of this app: the limiter, the default and each tenant's
  settings, the route classes; a limiter outage lets requests through.
- ``headers``: ``RateLimit-*`` and ``Retry-After``, and the 429 ``rate-limited`` problem.
- ``middleware``: each API key's requests, per route class.
- ``checkout``: ``POST /orders`` per customer, when the tenant asks for it.
Failed authentications per client address are counted by ``entrypoints.http.auth``.
"""
