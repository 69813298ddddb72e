"""Public metadata, documentation and health (§4, §8, §9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.functional.api.test_file_types import ALLOWED_EXTENSIONS, CONTENT_TYPES_PATH
from tests.functional.server import ServerProcess

LIMITS_PATH = "/ecx/host/api/integration/v1/file/limits"
CASE_PATH = "/ecx/host/api/integration/v1/file/submitForCase"
DN_PATH = "/ecx/host/api/integration/v1/file/submitForDamageNotification"


@pytest.fixture(scope="module")
def openapi(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(server.url + "/openapi.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s (and a lone ``allOf``) to the schema they name."""
    while True:
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


# --- contentTypes ------------------------------------------------------------------------


def test_content_types_lists_exactly_the_section_4_extensions(server: ServerProcess) -> None:
    """§9: {"<ext without dot>": ["type", …]} listing exactly the §4 extensions; public."""
    response = httpx.get(server.url + CONTENT_TYPES_PATH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    table = response.json()
    assert sorted(table) == sorted(ALLOWED_EXTENSIONS)


def test_every_extension_accepts_octet_stream(server: ServerProcess) -> None:
    """§4: application/octet-stream is accepted for every allowed extension."""
    table = httpx.get(server.url + CONTENT_TYPES_PATH).json()
    missing = [ext for ext, types in table.items() if "application/octet-stream" not in types]
    assert missing == []


def test_content_type_lists_are_non_empty_lists_of_mime_types(server: ServerProcess) -> None:
    """§4: each entry is a list of type/subtype strings without repeats."""
    table = httpx.get(server.url + CONTENT_TYPES_PATH).json()
    for ext, types in table.items():
        assert isinstance(types, list), ext
        assert types, ext
        assert all(isinstance(t, str) and t.count("/") == 1 for t in types), (ext, types)
        assert len({t.lower() for t in types}) == len(types), (ext, types)


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        ("jpg", "image/jpeg"),
        ("jpg", "image/jpg"),
        ("zip", "application/x-zip-compressed"),
        ("csv", "application/vnd.ms-excel"),
        ("pdf", "application/pdf"),
        ("txt", "text/plain"),
    ],
)
def test_content_types_include_the_named_aliases(
    server: ServerProcess, ext: str, content_type: str
) -> None:
    """§4: the IANA type plus the aliases real clients send, as named in the contract."""
    table = httpx.get(server.url + CONTENT_TYPES_PATH).json()
    assert content_type in [t.lower() for t in table[ext]]


# --- limits ------------------------------------------------------------------------------


def test_limits_of_the_default_server(server: ServerProcess) -> None:
    """§4/§8: the limits in force, defaults: 100 MiB, 1 GiB, 100 files; max lengths."""
    response = httpx.get(server.url + LIMITS_PATH)
    assert response.status_code == 200, response.text
    limits = response.json()
    assert limits["maxFileBytes"] == 104857600
    assert limits["maxRequestBytes"] == 1073741824
    assert limits["maxFilesPerRequest"] == 100
    assert {500, 4000} <= set(limits.values()), limits


def test_limits_follow_the_configuration(small_server: ServerProcess) -> None:
    """§4/§8: the limits served are the ones configured (ECB_FILES_MAX_*)."""
    limits = httpx.get(small_server.url + LIMITS_PATH).json()
    assert limits["maxFileBytes"] == 1000
    assert limits["maxRequestBytes"] == 20000
    assert limits["maxFilesPerRequest"] == 3
    assert limits["maxParts"] == 3 + 64


# --- OpenAPI and docs ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CASE_PATH, DN_PATH])
def test_openapi_documents_the_submit_request_body(openapi: dict[str, Any], path: str) -> None:
    """§9: /openapi.json documents the submit endpoints with their JSON request body."""
    operation = openapi["paths"][path]["post"]
    media = operation["requestBody"]["content"]["application/json"]
    schema = resolve(openapi, media["schema"])
    assert {"securityToken", "payload"} <= set(schema["properties"])
    payload = resolve(openapi, schema["properties"]["payload"])
    assert {"id", "insuranceCompanyAlias", "userEmail", "files"} <= set(payload["properties"])
    files = resolve(openapi, payload["properties"]["files"])
    entry = resolve(openapi, files["items"])
    expected = {
        "fileName",
        "contentType",
        "content",
        "description",
        "isRestricted",
        "isDamageImage",
        "sha256",
    }
    assert expected <= set(entry["properties"])


@pytest.mark.parametrize("path", [CASE_PATH, DN_PATH])
def test_openapi_documents_the_binary_request_body(openapi: dict[str, Any], path: str) -> None:
    """§10.1/§9: the multipart/form-data form, its submission part naming file parts."""
    media = openapi["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert media["encoding"]["submission"]["contentType"] == "application/json"
    assert media["schema"]["additionalProperties"] == {"type": "string", "format": "binary"}
    submission = resolve(openapi, media["schema"]["properties"]["submission"])
    payload = resolve(openapi, submission["properties"]["payload"])
    files = resolve(openapi, payload["properties"]["files"])
    entry = resolve(openapi, files["items"])
    assert "part" in entry["required"]
    assert "content" not in entry["properties"]
    assert {"fileName", "contentType", "sha256", "description"} <= set(entry["properties"])


@pytest.mark.parametrize("path", [CASE_PATH, DN_PATH])
def test_openapi_documents_the_submit_responses(openapi: dict[str, Any], path: str) -> None:
    """§9: the success and the error responses 400/401/403/404/413/415/500 are documented."""
    responses = openapi["paths"][path]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "413", "415", "500"} <= set(responses)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/connect/token", "post"),
        ("/.well-known/openid-configuration", "get"),
        ("/.well-known/openid-configuration/jwks", "get"),
        (CONTENT_TYPES_PATH, "get"),
        (LIMITS_PATH, "get"),
        ("/ecx/host/api/integration/v1/damageNotification/schema", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ],
)
def test_openapi_documents_every_other_endpoint(
    openapi: dict[str, Any], path: str, method: str
) -> None:
    """§9: GET /openapi.json documents every endpoint."""
    assert method in openapi["paths"].get(path, {}), sorted(openapi["paths"])


def test_openapi_documents_the_fnol_endpoint(openapi: dict[str, Any]) -> None:
    """§9, §10.2: the FNoL endpoint, its multipart bodies, 201 and its errors, its scope."""
    operation = openapi["paths"]["/ecx/host/api/integration/v1/damageNotification"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "multipart/form-data",
        "multipart/mixed",
        "multipart/related",
    }
    assert {"201", "400", "401", "403", "404", "413", "415", "422"} <= set(operation["responses"])
    assert "Location" in operation["responses"]["201"]["headers"]
    assert operation["security"] == [{"partnerToken": ["platform-service-provider:write"]}]


def test_limits_name_the_fnol_part_bound(server: ServerProcess) -> None:
    """§10.2: the FNoL part is read whole, under a limit of its own, served."""
    assert httpx.get(server.url + LIMITS_PATH).json()["maxFnolBytes"] == 1048576


def test_docs_page_is_html(server: ServerProcess) -> None:
    """The interactive documentation at /docs is served as HTML."""
    response = httpx.get(server.url + "/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "openapi.json" in response.text


# --- health --------------------------------------------------------------------------------


def test_healthz_is_200(server: ServerProcess) -> None:
    """§8: GET /healthz answers 200 while the process runs."""
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_readyz_is_200_when_database_and_storage_are_reachable(server: ServerProcess) -> None:
    """§8: GET /readyz answers 200 when the database and the storage are reachable."""
    assert httpx.get(server.url + "/readyz").status_code == 200
