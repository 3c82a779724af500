"""Model providers behind one streaming contract (see `events`)."""
