"""Customer notifications (issue 16, ADR 0038): email and SMS about an order, each an
effect recorded before it is sent and sent once per (event, channel)."""
