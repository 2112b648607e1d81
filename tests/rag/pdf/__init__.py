"""The PDF-manuals development set (issue 16)."""
