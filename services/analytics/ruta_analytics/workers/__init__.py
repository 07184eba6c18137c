"""Background work: the faust consumer that projects events, and the rebuild command."""
