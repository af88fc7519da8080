"""Spreadsheet imports of an existing book of clients, solutions and in-flight dossiers."""
