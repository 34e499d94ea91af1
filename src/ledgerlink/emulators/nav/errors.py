"""NAV errors: one exception carrying the .NET exception type and the OData error code."""

from __future__ import annotations

from enum import Enum

__all__ = ["Failure", "NavError"]

_TYPES = "Microsoft.Dynamics.Nav.Types.Exceptions."
_BROKER = "Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException"


class Failure(Enum):
    """What went wrong, as NAV classifies it: (SOAP fault type, OData code, OData status)."""

    DIALOG = (_TYPES + "NavNCLDialogException", "Application_DialogException", 400)
    TEST_FIELD = (_TYPES + "NavTestFieldException", "Application_FieldValidationException", 400)
    STRING_LENGTH = (
        _TYPES + "NavNCLStringLengthExceededException",
        "Application_StringExceededLength",
        400,
    )
    EVALUATE = (_TYPES + "NavNCLEvaluateException", "Application_EvaluateException", 400)
    TABLE_RELATION = (
        _TYPES + "NavCSideValidateTableRelationException",
        "Internal_InvalidTableRelation",
        400,
    )
    RECORD_NOT_FOUND = (_TYPES + "NavCSideRecordNotFoundException", "Internal_RecordNotFound", 404)
    DUPLICATE_KEY = (
        _TYPES + "NavCSideDuplicateKeyException",
        "Internal_EntityWithSameKeyExists",
        409,
    )
    STALE = (_BROKER, "Request_EntityChanged", 412)
    CALLBACK = (
        _TYPES + "NavNCLCallbackNotAllowedException",
        "Application_CallbackNotAllowed",
        400,
    )
    FILTER = (_TYPES + "NavFilterException", "Application_FilterErrorException", 400)
    NOT_ALLOWED = (_BROKER, "BadRequest_MethodNotAllowed", 405)
    READ_ONLY = (_BROKER, "BadRequest_InvalidOperation", 400)
    BAD_REQUEST = (_BROKER, "BadRequest", 400)

    @property
    def soap_type(self) -> str:
        """The .NET exception type written into ``faultcode``."""
        return self.value[0]

    @property
    def odata_code(self) -> str:
        """The OData ``error.code``."""
        return self.value[1]

    @property
    def odata_status(self) -> int:
        """The OData HTTP status."""
        return self.value[2]


class NavError(Exception):
    """An error NAV reports with ``message`` (a C/AL ERROR text or a platform message)."""

    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message
