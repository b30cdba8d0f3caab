"""ml layer."""
