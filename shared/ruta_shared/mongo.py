"""MongoDB client factory on PyMongo's native async API (Motor is deprecated)."""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from ruta_shared.settings import ServiceSettings

Document = dict[str, object]

# The errors that mean "the database cannot be reached now", not "the request is wrong":
# the API answers them 503 with Retry-After (AutoReconnect and NetworkTimeout are
# ConnectionFailure subclasses, ExecutionTimeout is not; all are listed for the reader).
UNAVAILABLE_ERRORS: tuple[type[PyMongoError], ...] = (
    ServerSelectionTimeoutError,
    AutoReconnect,
    NetworkTimeout,
    ConnectionFailure,
    ExecutionTimeout,
)


def database_unavailable(error: BaseException) -> bool:
    """True when `error` says the database is unreachable or too slow (not a bad request)."""
    return isinstance(error, UNAVAILABLE_ERRORS)


def create_mongo_client(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    """A client for the service's MongoDB (or FerretDB) server; connects lazily."""
    return AsyncMongoClient(
        settings.mongo_url,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
        socketTimeoutMS=settings.mongo_socket_timeout_ms,
        tz_aware=True,
        maxPoolSize=settings.mongo_max_pool_size,
        appname=f"ruta-{settings.service_name}",
    )


def service_database(
    client: AsyncMongoClient[Document], settings: ServiceSettings
) -> AsyncDatabase[Document]:
    """The service's own database (no service reads another's)."""
    return client[settings.mongo_database]


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise unless the server answers a ping."""
    await client.admin.command("ping")
