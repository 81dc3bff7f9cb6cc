"""Alert rules, their lifecycle, their persistence and their delivery (issue #11)."""
