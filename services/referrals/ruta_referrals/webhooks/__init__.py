"""Outbound webhooks to institutions: enqueue from Kafka, sign, deliver, retry, dead-letter."""
