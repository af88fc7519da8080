"""Signed webhook deliveries to vendors' CRMs (Standard Webhooks), fed by the dossier outbox."""
