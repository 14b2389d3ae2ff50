"""Remotes: share a repository over file:// and s3:// (see sync.py)."""
