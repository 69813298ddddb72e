"""Partner-side client for the ECB file submission API.

::

    from ecb_files_client import ClientCredentials, PrivateKeyJwt, SubmitClient

    auth = PrivateKeyJwt.from_pem_files("client.key", "client.crt")
    with SubmitClient("https://files.example.com", ClientCredentials("my-client", auth),
                      security_token="…") as client:
        client.submit_to_case(case_id, insurance_company_alias="company",
                              user_email="me@example.com", files=["photo.jpg"])
        created = client.create_damage_notification(
            {"incidentDate": "2024-05-01", "description": "…"},
            insurance_company_alias="company", user_email="me@example.com",
            attachments=["dent.jpg"])

File bytes go raw in ``multipart/form-data`` when the server takes it, else base64 in
JSON (``transfer="auto"``; ``"multipart"`` or ``"json"`` forces one).

The implementation modules are private; everything public is imported here.
"""

from ecb_files_client._checks import Limits
from ecb_files_client._client import AsyncSubmitClient, SubmitClient
from ecb_files_client._credentials import ClientSecret, PrivateKeyJwt
from ecb_files_client._exceptions import (
    ApiError,
    BodyNotRepeatable,
    ClaimIsClosed,
    ClaimNotFound,
    DamageNotificationMergedToClaim,
    DamageNotificationNotFound,
    DiscoveryError,
    EcbClientError,
    FileNotFound,
    Forbidden,
    GenericError,
    IdempotencyKeyReused,
    InsuranceCompanyNotFound,
    InvalidRequest,
    InvalidSecurityToken,
    LocalValidationError,
    MalwareDetected,
    RequestInProgress,
    TokenError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    UserNotFound,
)
from ecb_files_client._filetypes import (
    accepted_content_types,
    extension_of,
    guess_content_type,
    is_accepted,
    is_allowed_extension,
)
from ecb_files_client._progress import ProgressListener
from ecb_files_client._results import DamageNotificationResult, StoredFile, SubmitResult
from ecb_files_client._retry import RetryPolicy
from ecb_files_client._submission import Transfer
from ecb_files_client._tokens import (
    AccessToken,
    AsyncTokenClient,
    ClientCredentials,
    TokenCache,
    TokenClient,
)
from ecb_files_client._uploads import Upload, UploadInfo
from ecb_files_client._version import __version__

__all__ = [
    "AccessToken",
    "ApiError",
    "AsyncSubmitClient",
    "AsyncTokenClient",
    "BodyNotRepeatable",
    "ClaimIsClosed",
    "ClaimNotFound",
    "ClientCredentials",
    "ClientSecret",
    "DamageNotificationMergedToClaim",
    "DamageNotificationNotFound",
    "DamageNotificationResult",
    "DiscoveryError",
    "EcbClientError",
    "FileNotFound",
    "Forbidden",
    "GenericError",
    "IdempotencyKeyReused",
    "InsuranceCompanyNotFound",
    "InvalidRequest",
    "InvalidSecurityToken",
    "Limits",
    "LocalValidationError",
    "MalwareDetected",
    "PrivateKeyJwt",
    "ProgressListener",
    "RequestInProgress",
    "RetryPolicy",
    "StoredFile",
    "SubmitClient",
    "SubmitResult",
    "TokenCache",
    "TokenClient",
    "TokenError",
    "TooManyRequests",
    "Transfer",
    "TransportError",
    "Unauthorized",
    "Upload",
    "UploadInfo",
    "UserNotFound",
    "__version__",
    "accepted_content_types",
    "extension_of",
    "guess_content_type",
    "is_accepted",
    "is_allowed_extension",
]
