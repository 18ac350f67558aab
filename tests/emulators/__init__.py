"""Loopback emulators of the platforms' suppression APIs, for the sync's tests (one per platform)."""
