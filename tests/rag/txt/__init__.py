"""The plain-text development set (issue 16)."""
