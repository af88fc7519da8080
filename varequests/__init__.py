"""VA requests: the client's signatory returns the signed VA through a tokenised page."""
