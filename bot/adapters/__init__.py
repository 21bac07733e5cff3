"""Adapters translate between a platform and the core.

Platform event -> `Incoming` -> dispatcher -> replies -> platform call.
"""
