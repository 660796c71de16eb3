"""Published reports in: text dumps, saved web pages and Word files → our model and workbook.

>>> from xltool.read.importer import import_file, to_json
"""

from __future__ import annotations

from xltool.read.importer.core import (
    Found,
    ImportResult,
    import_document,
    import_file,
    split_totals,
    to_json,
)
from xltool.read.importer.document import (
    Document,
    DocumentError,
    Para,
    Row,
    from_docx,
    from_html,
    from_text,
    load,
)
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
    "split_totals",
    "to_json",
]
