"""police.uk imports and their limits."""
