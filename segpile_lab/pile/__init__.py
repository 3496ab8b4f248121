"""pile subpackage (see ARCHITECTURE.md)."""
