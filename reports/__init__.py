"""Follow-up and reporting: deadlines, digests and reminders, the reports with their exports, the calendar feed."""
