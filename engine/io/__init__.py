"""Every file type Sign Studio reads or writes, in one registry (``engine.io.formats``).

File dialogs, drag-and-drop, the CLI's help and the export and import workflows all
take their suffix lists and their dispatch from here, so they cannot disagree.
"""
from engine.io.formats import FORMATS, FileFormat, Kind, UnknownFormat, dialog_filter, format_for, suffixes

__all__ = ["FORMATS", "FileFormat", "Kind", "UnknownFormat", "dialog_filter", "format_for",
           "suffixes"]
