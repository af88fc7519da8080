"""Benchmark data: realistic dossiers generated in bulk (`manage.py generate_dossiers`)."""
