"""viewer subpackage (see ARCHITECTURE.md)."""
