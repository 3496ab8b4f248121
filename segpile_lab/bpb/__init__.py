"""bpb subpackage (see ARCHITECTURE.md)."""
