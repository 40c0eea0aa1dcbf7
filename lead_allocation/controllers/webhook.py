"""POST /lead_allocation/webhook: integrations create (and assign) leads over HTTP; and
POST /lead_allocation/webhook/batch: up to 500 of them in one request.

Thin on purpose: authenticate → read the body → ``parse_lead_payload`` (validation, no
Odoo; ``parse_lead_batch`` per item for a batch) → ``lead.allocation.intake._receive``
(``_receive_batch`` for a batch: database checks, idempotency, creation) → JSON response
(one result per item for a batch). The OpenAPI description is in
``static/openapi/webhook.json`` (served at ``.../openapi.json``).

Authentication: the route is ``auth="none"`` and checks the key itself with the same
``res.users.apikeys._check_credentials(scope="rpc")`` that Odoo 19's ``auth="bearer"``
uses. ``auth="bearer"`` itself is not used because it answers a missing or wrong key
with werkzeug's HTML 401 before the route runs (not the documented JSON error with its
``missing_api_key`` / ``invalid_api_key`` code), and without a key it accepts a browser
session instead, while an integration must always send its own key.
"""

import json
import re

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request
from odoo.tools import file_open

from ..intake import (
    BATCH_ROUTE,
    MAX_BATCH_SIZE,
    WEBHOOK_ROUTE,
    IntakeError,
    LeadPayload,
    batch_status,
    parse_lead_batch,
    parse_lead_payload,
)

MAX_BODY_SIZE = 64 * 1024  # bytes; documented in the OpenAPI description and README
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
BEARER_RE = re.compile(r"^bearer\s+([!-~]{1,512})\s*$", re.IGNORECASE)
OPENAPI_PATH = "lead_allocation/static/openapi/webhook.json"
# Both webhook routes: authenticated by the API key in the request (not a session), writing.
POST_ROUTE = {
    "type": "http",
    "auth": "none",
    "methods": ["POST"],
    "csrf": False,
    "readonly": False,
    "save_session": False,
}


class LeadWebhookController(http.Controller):
    @http.route(WEBHOOK_ROUTE, **POST_ROUTE)
    def lead_webhook(self, **_form):
        """Create a lead from a JSON object or a form post; see static/openapi/."""
        try:
            self._authenticate()
            payload = parse_lead_payload(self._read_body())
            lead, outcome = request.env["lead.allocation.intake"]._receive(
                payload, method="webhook", origin=request.env.user.display_name
            )
            return self._render(lead, outcome, payload)
        except IntakeError as error:
            return self._error_response(error)
        except AccessError as error:
            return self._error_response(IntakeError("forbidden", str(error), status=403))

    @http.route(BATCH_ROUTE, **POST_ROUTE)
    def lead_webhook_batch(self, **_params):
        """Create leads from a JSON array, one result per item; see static/openapi/."""
        try:
            self._authenticate()
            if "Idempotency-Key" in request.httprequest.headers:
                raise IntakeError(
                    "idempotency_key_not_supported",
                    "A batch takes no Idempotency-Key header: give each lead its external_id.",
                )
            items = parse_lead_batch(self._read_json(MAX_BATCH_SIZE))
            payloads = payloads_of(items)
            received = request.env["lead.allocation.intake"]._receive_batch(
                payloads, method="webhook", origin=request.env.user.display_name
            )
            return self._render_batch(items, received)
        except IntakeError as error:
            return self._error_response(error)
        except AccessError as error:
            return self._error_response(IntakeError("forbidden", str(error), status=403))

    @http.route(f"{WEBHOOK_ROUTE}/openapi.json", type="http", auth="none", methods=["GET"])
    def lead_webhook_openapi(self):
        with file_open(OPENAPI_PATH, "rb") as file:
            return request.make_response(
                file.read(), headers=[("Content-Type", "application/json; charset=utf-8")]
            )

    # Steps ---------------------------------------------------------------------------

    def _authenticate(self):
        """Switch the request to the integration user whose API key (scope rpc) is sent."""
        header = request.httprequest.headers.get("Authorization")
        if not header:
            raise IntakeError(
                "missing_api_key",
                "Send an Odoo API key: 'Authorization: Bearer <key>'.",
                status=401,
            )
        match = BEARER_RE.match(header)
        uid = match and request.env["res.users.apikeys"]._check_credentials(
            scope="rpc", key=match.group(1)
        )
        if not uid:
            raise IntakeError("invalid_api_key", "Invalid API key.", status=401)
        request.update_env(user=uid)
        request.env["lead.allocation.intake.check"]._can_create()

    def _read_body(self):
        """The body as a mapping of fields (JSON object or form post)."""
        httprequest = request.httprequest
        mimetype = httprequest.mimetype
        if mimetype not in (JSON_TYPE, FORM_TYPE):
            raise IntakeError(
                "unsupported_media_type",
                f"Send the lead as {JSON_TYPE} or {FORM_TYPE}.",
                status=415,
            )
        if mimetype == FORM_TYPE:
            if (httprequest.content_length or 0) > MAX_BODY_SIZE:
                raise self._too_large(MAX_BODY_SIZE)
            return self._form_fields(httprequest.form)
        data = self._read_json(MAX_BODY_SIZE)
        if not isinstance(data, dict):
            raise IntakeError("invalid_body", "The lead must be a JSON object of fields.")
        return self._with_idempotency_key(data)

    def _read_json(self, max_size):
        """The JSON body, decoded (at most ``max_size`` bytes)."""
        httprequest = request.httprequest
        if httprequest.mimetype != JSON_TYPE:
            raise IntakeError(
                "unsupported_media_type", f"Send the leads as {JSON_TYPE}.", status=415
            )
        if (httprequest.content_length or 0) > max_size:
            raise self._too_large(max_size)
        raw = httprequest.get_data(cache=True)
        if len(raw) > max_size:
            raise self._too_large(max_size)
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise IntakeError("invalid_json", "The body is not valid UTF-8 JSON.") from None

    def _form_fields(self, form):
        data = {}
        for key, values in form.lists():
            if key == "tag_names":
                data[key] = ",".join(values)
            elif len(values) > 1:
                raise IntakeError("invalid_type", f"{key} is sent more than once.", key)
            else:
                data[key] = values[0]
        return self._with_idempotency_key(data)

    def _with_idempotency_key(self, data):
        key = request.httprequest.headers.get("Idempotency-Key")
        if key is None:
            return data
        sent = data.get("external_id")
        if sent not in (None, "") and str(sent).strip() != key.strip():
            raise IntakeError(
                "idempotency_key_mismatch",
                "The Idempotency-Key header and the external_id field differ.",
                "external_id",
            )
        return dict(data, external_id=key)

    def _render(self, lead, outcome, payload):
        if outcome == "conflict":
            raise self._conflict()
        available = self._agents_available([(lead, payload)])
        return request.make_json_response(
            self._lead_result(lead, payload, available), status=201 if outcome == "created" else 200
        )

    def _render_batch(self, items, received):
        """One result per item, in order (``received`` answers the LeadPayloads of
        ``items``); the status is the items' common one, else 207."""
        received = list(received)
        available = self._agents_available(
            [
                (lead, item)
                for item, (lead, _outcome, _error) in zip(payloads_of(items), received, strict=True)
            ]
        )
        received = iter(received)
        results = []
        for item in items:
            if isinstance(item, IntakeError):
                results.append(
                    {"status": item.status, "error": item.to_dict(), "external_id": None}
                )
                continue
            lead, outcome, error = next(received)
            if outcome in ("created", "replayed"):
                status = 201 if outcome == "created" else 200
                result = dict(self._lead_result(lead, item, available), status=status)
            else:
                error = self._conflict() if outcome == "conflict" else self._refusal(error)
                result = {"status": error.status, "error": error.to_dict()}
            results.append(dict(result, external_id=item.external_id))
        status = batch_status(result["status"] for result in results)
        return request.make_json_response({"results": results}, status=status)

    def _lead_result(self, lead, payload, available):
        # sudo: reports back only the id and salesperson of the lead this user created
        lead = lead.sudo()
        result = {
            "id": lead.id,
            "user_id": lead.user_id.id or None,
            "allocation_method": lead.allocation_method,
            "ignored_fields": payload.ignored_fields,
        }
        if payload.user_id:
            result["agent_available"] = lead.user_id.id in available
        return result

    def _agents_available(self, pairs):
        """The ids of the agents named by the payloads of ``pairs`` (``(lead, payload)``)
        who are at work now (all of them unless "Follow working hours and time off")."""
        named = {lead.sudo().user_id.id for lead, payload in pairs if lead and payload.user_id}
        # sudo: whether the agents the integration named are at work, nothing more
        agents = request.env["res.users"].sudo().browse(named).exists()
        return request.env["lead.allocation.availability"]._at_work_ids(agents)

    def _conflict(self):
        return IntakeError(
            "idempotency_conflict",
            "This idempotency key was already used with a different lead.",
            "external_id",
            status=409,
        )

    def _refusal(self, error):
        """The IntakeError to answer for ``error``, which refused one lead of a batch."""
        if isinstance(error, IntakeError):
            return error
        if isinstance(error, AccessError):
            return IntakeError("forbidden", str(error), status=403)
        return IntakeError("not_created", f"The lead could not be created: {error}", status=422)

    def _too_large(self, max_size):
        size = (
            f"{max_size // 1024 // 1024} MiB"
            if max_size >= 1024 * 1024
            else f"{max_size // 1024} KiB"
        )
        return IntakeError("payload_too_large", f"The body is larger than {size}.", status=413)

    def _error_response(self, error):
        headers = [("WWW-Authenticate", "Bearer")] if error.status == 401 else None
        return request.make_json_response(
            {"error": error.to_dict()}, headers=headers, status=error.status
        )


def payloads_of(items):
    """The LeadPayloads of the items of a batch (the others were refused when read)."""
    return [item for item in items if isinstance(item, LeadPayload)]
