"""Pipeline: the use cases (check, combine, render, import, previous-year data, samples)
over read → rules → write. The CLI and any other shell call these functions only."""
