"""ArborDB: a versioned tabular database for Python."""
