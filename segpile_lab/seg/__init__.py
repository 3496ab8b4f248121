"""seg subpackage (see ARCHITECTURE.md)."""
