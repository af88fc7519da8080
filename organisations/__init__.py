"""Organisations (éditeurs, distributors), their members and roles, API tokens."""
