"""The clerk's workbench in the browser (``xltool serve``): a second shell over the same
pipeline functions as the CLI (``xltool.pipeline.workspace``), never a second implementation.

Layer: beside ``xltool.cli``; it imports pipeline and below, and only the CLI imports it.
"""
