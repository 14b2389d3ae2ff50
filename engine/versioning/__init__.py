"""engine/versioning"""
