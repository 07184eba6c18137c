"""Kafka publisher, consumer and topic administration on aiokafka."""
