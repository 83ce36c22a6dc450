"""I/O at the edge: one module per real system (mail, ...)."""
