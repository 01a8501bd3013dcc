"""Evidence of what worked: recorded crime and residents' concerns before and after a task's response."""
