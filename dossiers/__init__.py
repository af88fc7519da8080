"""Funding dossiers: the SONS lifecycle, its prerequisite rules and its history."""
