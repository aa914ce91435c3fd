"""Ports: the interfaces through which the core reaches the outside world.

One module per port; each is a ``typing.Protocol`` with an in-memory adapter in
``adapters.memory`` and a contract test suite shared with the real adapter.
"""
