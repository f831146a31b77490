"""The HTTP scoring service (optional extra ``custseg[serve]``: FastAPI and uvicorn).

``create_app(model)`` builds the application; ``custseg serve`` runs it with uvicorn.
The service holds no business logic: it authenticates, limits and parses requests and
calls :class:`custseg.scoring.Scorer`, the same code as batch scoring.
"""

from .app import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_RECORDS, create_app
from .limits import ServiceLimits

__all__ = ["create_app", "ServiceLimits", "DEFAULT_MAX_RECORDS", "DEFAULT_MAX_BODY_BYTES"]
