"""Listeners for Events API events."""
