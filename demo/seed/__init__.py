"""The demo organisation (`manage.py seed_demo`): bulk-loaded through the importer, its showcase through the services."""
