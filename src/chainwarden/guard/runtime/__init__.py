"""The guard runtime: files copied into the guarded interpreter (standard library only)."""
