"""Shared vocabulary below every app: what all layers mean by the same word.

Plain Python, not a Django app: no models, nothing to install. See docs/ARCHITECTURE.md.
"""
