"""Published reports in: text dumps, saved web pages and Word files → our model and workbook.

>>> from xltool.read.importer import import_file, write_result, to_json
"""

from __future__ import annotations

from xltool.read.importer.core import (
    Found,
    ImportResult,
    import_document,
    import_file,
    output_name,
    split_totals,
    to_json,
    write_result,
)
from xltool.read.importer.document import Document, DocumentError, Para, Row, from_docx, from_html, from_text, load
from xltool.read.importer.tables import Issue

__all__ = [
    "Document",
    "DocumentError",
    "Found",
    "ImportResult",
    "Issue",
    "Para",
    "Row",
    "from_docx",
    "from_html",
    "from_text",
    "import_document",
    "import_file",
    "load",
    "output_name",
    "split_totals",
    "to_json",
    "write_result",
]
