"""What goes into a request: numbers, content, fields, segments, and the plan of batches."""
