"""xltool: 政府信息公开工作年度报告 templates, checks and district summaries."""

__version__ = "0.1.0"
