"""Dialogs: export and settings."""
