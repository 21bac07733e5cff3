"""The rules: people and roles, announcements, questions and hand-off, stats, privacy.

Handlers and scheduler jobs call these; they take a session, the outbox and a clock, never a platform.
"""
