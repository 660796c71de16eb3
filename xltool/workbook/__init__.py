"""Our workbooks' geometry: cell addresses, the layout derived from the spec, the meta sheet,
drawing helpers shared by template, feedback copy and summary, and atomic file io."""
