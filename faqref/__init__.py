"""The official FAQ as reference: imported exports, revisions, French search, links to rules."""
