"""Bronze tasking and the partner workspace."""
