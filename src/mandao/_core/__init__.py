"""Every decision of a call, as values and pure functions: no I/O, no clock, no threads."""
