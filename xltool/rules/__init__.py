"""Rules: pure validation. A report goes in, findings come out; no file is read here."""
