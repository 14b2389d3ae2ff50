"""engine/table"""
