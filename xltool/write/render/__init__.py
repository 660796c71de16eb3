"""The publishable report: a layout-independent document model, then HTML and DOCX."""
