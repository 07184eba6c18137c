"""Ruta's shared library: events, topics, Kafka, outbox, Mongo, settings, logging, metrics, health."""
