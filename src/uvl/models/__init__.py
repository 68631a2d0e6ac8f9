"""Network parts shared by methods."""
