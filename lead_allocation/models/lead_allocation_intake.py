import logging
from contextlib import contextmanager
from typing import NamedTuple

from psycopg2 import errors as pg_errors

from odoo import api, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.tools import escape_psql, mute_logger
from odoo.tools.misc import clean_context

from ..intake import IntakeError

_logger = logging.getLogger(__name__)

UTM_MODELS = {"source": "utm.source", "medium": "utm.medium", "campaign": "utm.campaign"}
# What may refuse one lead at its creation (access, bad value, constraint); the others of
# its batch are created all the same.
CREATE_ERRORS = (UserError, ValueError, pg_errors.IntegrityError, pg_errors.DataError)


class Received(NamedTuple):
    """What ``lead.allocation.intake`` did with one payload."""

    lead: object  # crm.lead record, None when refused
    outcome: str  # "created", "replayed", "conflict" or "refused"
    error: Exception | None = None


class LeadAllocationIntake(models.AbstractModel):
    """The Odoo side of the lead intake shared by the webhook and the Google Sheets import.

    The pure unit ``intake/`` validates the outside data into a ``LeadPayload``; this
    model checks it against the database and creates the lead with the rights of the
    current user: the integration user of a webhook call, the user a Google Sheets sync
    runs as. Only the look-ups marked ``# sudo:`` read past those rights.
    """

    _name = "lead.allocation.intake"
    _description = "Lead Intake (webhook, Google Sheets)"

    @api.model
    def _receive(self, payload, method="webhook", origin=None):
        """Turn ``payload`` (a LeadPayload) into a lead as the current user (the webhook);
        ``_receive_batch`` of one payload, its refusal raised.

        Returns ``(lead, outcome)``, outcome ``"created"``, ``"replayed"`` or
        ``"conflict"``. Raises IntakeError (422) for a bad team or agent, AccessError when
        the user may not create the lead, ConcurrencyError on a parallel insert of the
        same key (the request is then replayed and finds the first lead).
        """
        received = self._receive_batch([payload], method, origin)[0]
        if received.error:
            raise received.error
        return received.lead, received.outcome

    @api.model
    def _receive_batch(self, payloads, method="webhook", origin=None, cache=None):
        """The one entry point of the intake: turn ``payloads`` (LeadPayloads) into leads
        as the current user, in one ``crm.lead.create`` (one round-robin decision per pool
        for the whole batch, in order). Returns one ``Received`` per payload, in order:

        - ``created``: the new lead;
        - ``replayed``: the current user already sent ``payload.external_id`` with the
          same data: the lead of then, nothing created;
        - ``conflict``: it sent that key with other data: that lead, nothing created;
        - ``refused``: ``error`` says why (IntakeError, or the error of its creation);
          nothing of it is left behind, and the others are created all the same.

        A payload whose key an earlier payload of the batch has is answered as a retry of
        that one: ``replayed`` with its lead (or its refusal) when the data are the same,
        ``conflict`` when they differ; nothing is created twice.

        ``cache`` keeps teams, agents, tags and UTM records across calls (an import). A
        parallel insert of the same key raises ConcurrencyError (the request is replayed).

        Each salesperson is told once of the leads of several payloads given to them
        (``crm.lead._notify_salespeople``), not once per lead.
        """
        if len(payloads) < 2 or self.env.context.get("mail_auto_subscribe_no_notify"):
            return self._receive_items(payloads, method, origin, cache)
        results = self.with_context(mail_auto_subscribe_no_notify=True)._receive_items(
            payloads, method, origin, cache
        )
        created = [result.lead.id for result in results if result.outcome == "created"]
        self.env["crm.lead"].browse(created)._notify_salespeople()
        return results

    @api.model
    def _receive_items(self, payloads, method, origin, cache):
        """``_receive_batch`` without its notification of the salespeople."""
        origin = origin or self.env.user.display_name
        cache = {} if cache is None else cache
        results, todo, repeats = self._triage(payloads)
        batch = []
        try:  # all at once
            with self._savepoint(cache):
                for index in todo:
                    try:  # the checks come first: a refused payload created nothing
                        values = self._prepare_lead_values(payloads[index], cache)
                        batch.append((index, values))
                    except IntakeError as error:
                        results[index] = Received(None, "refused", error)
                values_list = [values for _index, values in batch]
                leads = self._create(values_list, method, origin) if batch else []
            for (index, _values), lead in zip(batch, leads, strict=True):
                results[index] = Received(lead, "created")
        except CREATE_ERRORS as error:
            if len(batch) == 1:
                results[batch[0][0]] = Received(None, "refused", error)
            else:  # one by one, each in its savepoint
                for index, _values in batch:
                    results[index] = self._receive_one(payloads[index], method, origin, cache)
        for index, first in repeats:
            results[index] = self._repeated(results[first], payloads[first], payloads[index])
        return results

    @api.model
    def _triage(self, payloads):
        """``(results, todo, repeats)`` of ``payloads``: ``results`` holds the answers of
        the keys already used (one query for all), ``todo`` the indexes to create,
        ``repeats`` the ``(index, first index)`` of keys repeated inside the batch."""
        existing = self._find_existing_leads(payloads)
        results, todo, repeats, firsts = [None] * len(payloads), [], [], {}
        for index, payload in enumerate(payloads):
            key = payload.external_id
            if key in existing:
                lead = existing[key]
                same = lead.intake_payload_hash == payload.fingerprint()
                results[index] = Received(lead, "replayed" if same else "conflict")
            elif key in firsts:
                repeats.append((index, firsts[key]))
            else:
                if key:
                    firsts[key] = index
                todo.append(index)
        return results, todo, repeats

    @api.model
    def _repeated(self, first, first_payload, payload):
        """``Received`` of ``payload``, sent again in its batch after ``first_payload``
        (answered ``first``) under the same key."""
        if payload.fingerprint() != first_payload.fingerprint():
            return Received(first.lead, "conflict")
        if first.outcome == "created":
            return Received(first.lead, "replayed")
        return first

    @api.model
    def _receive_one(self, payload, method, origin, cache):
        """``Received`` of one payload created alone (after its batch failed)."""
        try:
            with self._savepoint(cache):
                values = self._prepare_lead_values(payload, cache)
                return Received(self._create([values], method, origin), "created")
        except (IntakeError, *CREATE_ERRORS) as error:
            return Received(None, "refused", error)

    @api.model
    def _prepare_lead_values(self, payload, cache=None):
        """``crm.lead`` create values for ``payload`` (a LeadPayload), checked.

        The team and the agent are checked (IntakeError 422), and that the current user
        may give a lead to that agent (IntakeError 403); the agent, when named, is the
        lead's ``user_id`` (see ``_create``); without one the round robin chooses.
        Tags and UTM records (source, medium, campaign) are found by name, case
        insensitively, or created, after the checks. ``cache`` (a dict) keeps
        the teams, agents, tags and UTM records looked up across calls (an import).
        """
        cache = {} if cache is None else cache
        team = agent = None
        Check = self.env["lead.allocation.intake.check"]
        if payload.team_id:
            team = self._cached(cache, ("team", payload.team_id), Check._team)
        if payload.user_id:
            company = Check._lead_company(team)
            agent = self._cached(cache, ("agent", payload.user_id, company), Check._agent)
            self._cached(cache, ("assign", agent, team, company), Check._may_assign)
        # checked: from here on tags and UTM records may be created
        extra = ("extra", tuple(payload.tag_names), tuple(sorted(payload.utm.items())))
        values = dict(self._cached(cache, extra, self._prepare_extra_values))
        values.update(payload.values)
        if team:
            values["team_id"] = team.id
        if agent:
            values["user_id"] = agent.id
        if payload.external_id:
            values.update(
                intake_integration_id=self.env.uid,
                intake_external_id=payload.external_id,
                intake_payload_hash=payload.fingerprint(),
            )
        return values

    @api.model
    def _cached(self, cache, key, compute):
        """``compute(*key[1:])`` once per ``key``; IntakeErrors are remembered too."""
        if key not in cache:
            try:
                cache[key] = compute(*key[1:])
            except IntakeError as error:
                cache[key] = error
        if isinstance(cache[key], IntakeError):
            raise cache[key]
        return cache[key]

    @api.model
    def _prepare_extra_values(self, tag_names, utm_items):
        """The tag and UTM values of a payload, records found or created by name."""
        values = {}
        if tag_names:
            values["tag_ids"] = [(6, 0, self._find_or_create_tags(tag_names).ids)]
        for key, name in utm_items:
            values[f"{key}_id"] = self._find_or_create_by_name(UTM_MODELS[key], name).id
        return values

    @api.model
    def _find_or_create_by_name(self, model_name, name):
        """The record named ``name`` (case insensitive, archived ones too), or a new one.

        Unlike ``utm.mixin._find_or_create_record``, the name is escaped: ``%`` and ``_``
        are not wildcards, and a trailing backslash does not break the query.
        """
        Model = self.env[model_name].with_context(active_test=False)
        record = Model.search([("name", "=ilike", escape_psql(name))], limit=1)
        if not record:
            extra = {"is_auto_campaign": True} if "is_auto_campaign" in Model._fields else {}
            record = Model.create({"name": name, **extra})
        return record

    @api.model
    def _find_or_create_tags(self, names):
        tags = self.env["crm.tag"]
        for name in names:
            tags |= self._find_or_create_by_name("crm.tag", name)
        return tags

    @api.model
    def _find_existing_leads(self, payloads):
        """``{external_id: lead}`` of the leads the current user already created with the
        keys of ``payloads``, in one query.

        The leads are returned as superuser: the integration user may no longer see a lead
        it assigned to an agent, and only their id and salesperson are reported back.
        """
        keys = {payload.external_id for payload in payloads if payload.external_id}
        if not keys:
            return {}
        # sudo: looks up the current user's own idempotency keys only
        leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [
                    ("intake_integration_id", "=", self.env.uid),
                    ("intake_external_id", "in", list(keys)),
                ],
                ["intake_external_id", "intake_payload_hash"],
            )
        )
        return {lead.intake_external_id: lead for lead in leads}

    @api.model
    def _create(self, values_list, method, origin):
        """The leads of ``values_list``, created as the current user without the
        ``default_*`` keys of the caller's context (``default_user_id`` would bypass the
        round robin). A salesperson in the values was named by the integration: ``method``
        ("webhook" or "sheet") says which, ``origin`` names it in the reason."""
        context = dict(clean_context(self.env.context), lead_allocation_named_by=(method, origin))
        Lead = self.env["crm.lead"].with_env(self.env(context=context))
        leads = Lead.create(values_list)
        leads.flush_recordset()
        return leads

    @contextmanager
    def _savepoint(self, cache):
        """A savepoint; when it rolls back, the records it created leave ``cache`` too.

        A unique violation (the same idempotency key, tag or UTM name committed by a
        parallel request) is expected under parallel retries: kept out of the error log
        and raised as ConcurrencyError, so that the request is replayed and then finds
        that record.
        """
        known = set(cache)
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                yield
        except pg_errors.UniqueViolation as error:
            _logger.info("Lead intake: parallel insert (%s), replaying", error.diag.constraint_name)
            raise ConcurrencyError(str(error)) from error
        except Exception:
            for key in set(cache) - known:
                del cache[key]
            raise
