"""The gRPC edge of worker-financial: thin servicers that decode, call the domain, encode."""
