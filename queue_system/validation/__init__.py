"""Validation of jobs at submission: a bad job is rejected whole, before anything is enqueued.

Jobs carry orders and money, and a worker that finds a bad field mid-run can
only fail the job after the producer has moved on. So every way in (the
QueueManager, QueueService, taskiq's `kiq`) checks every field first, once,
and answers naming every bad one. `rules` is the engine, `job_rules` the
table of every job message's rules, `jobs` the entry points.
"""
