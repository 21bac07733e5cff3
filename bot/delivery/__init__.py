"""Delivery of messages that are not direct replies (the outbox), and the errors adapters report."""
