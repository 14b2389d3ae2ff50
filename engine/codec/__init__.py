"""engine/codec"""
