"""Writers: templates, feedback copies, the district summary, and the publishable report."""
