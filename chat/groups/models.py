"""Tables (filled in as the feature is built)."""
