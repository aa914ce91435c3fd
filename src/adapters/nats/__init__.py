"""NATS JetStream: where integration events leave the service (ADR 0035)."""

from adapters.nats.publisher import JetStreamPublisher, subject_of

__all__ = ["JetStreamPublisher", "subject_of"]
