"""Timed and recovery work: APScheduler wiring (`runner`), the jobs (`jobs`), one leader per database
(`leader`). The database is the source of truth; timers are rebuilt from it at start."""
