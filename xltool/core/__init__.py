"""Core: the typed models that pass between stages, the finding registry, errors, normalisers.

Imports only from ``xltool.spec``.
"""
