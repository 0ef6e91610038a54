"""When things run: slot math, the tick that claims slots once, releasing them at their
second, what an edit does to planned work, the leader lease, the reconciler and the
scheduler process."""
