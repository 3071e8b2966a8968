"""Background jobs: engine work off the GUI thread, results back on it."""
from studio.jobs.runner import JobHandle, JobRunner

__all__ = ["JobHandle", "JobRunner"]
