"""Ruta's shared library: events, topics, Kafka, outbox, Mongo, settings, logs, metrics, health."""
