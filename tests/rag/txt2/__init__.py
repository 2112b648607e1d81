"""The second plain-text development set (issue 16)."""
