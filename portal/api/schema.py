"""drf-spectacular post-processing: the error answers every operation can give, documented once.

Registered in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]. Views document their specific errors with
`errors(...)` (certification.api_applications); this hook adds those any operation can return whatever the
view, in the one error format of portal.api.errors:

- 404 for every path with a parameter (an unknown tenant, an object outside the caller's reach: never 403,
  reliability.md AC1) and every paginated list (a page number past the end);
- 401 (missing or invalid credentials) and 403 (authenticated, not allowed) everywhere;
- 400 where the operation takes query parameters or a body.
"""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/APIError"}
DESCRIPTIONS = {
    "400": "The request is not valid: `fields` names each field at fault.",
    "401": "No credentials, or credentials that are not valid.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such tenant or object within the caller's reach, or a page past the end.",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def document_error_responses(result, generator, request, public):
    if "APIError" not in result.get("components", {}).get("schemas", {}):
        return result
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            codes = ["401", "403"]
            params = operation.get("parameters", [])
            if "{" in path or any(p.get("in") == "query" and p.get("name") == "page" for p in params):
                codes.append("404")
            takes_input = "requestBody" in operation or any(p.get("in") == "query" for p in params)
            if takes_input:
                codes.append("400")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )
    return result
