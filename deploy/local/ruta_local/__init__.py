"""Ruta's local infrastructure: real Kafka and FerretDB servers, and the whole stack."""
