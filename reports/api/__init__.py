"""The reports app's API: reports, deadlines, export jobs (mounted under /api/v1/ by `reports.api_urls`)."""
