"""The FinancialHost connector: neutral contract ↔ the FinancialHost wire contract, for Dynamics
NAV and Visma Administration running on the customer's own server (design §10).

Every request is an allow-listed operation sent by :class:`~ledgerlink.wire.client.SignedClient`
(HMAC-signed; the host's answers are signed in turn and checked). The host's TLS certificate is
pinned from the settings; a client certificate is presented when the host requires mTLS.

Reads answer at once. Writes are jobs on the host: 200 with the job's outcome (succeeded or
failed) or 202 while the ERP is unavailable. Before a write the connector asks ``job.status``
for its idempotency key, so a retry finds the job an earlier call left pending instead of
queueing another. A pending job is polled for up to ``job_wait_seconds``, then reported as
:class:`~ledgerlink.connectors.contract.Transient`: the host keeps it and sends it when the ERP
answers. Content whose job already finished runs again under a follow-up key, except where the
stored success is the answer (:data:`REUSE_SUCCESS`). How answers and failures map to
contract errors is the table in :mod:`~ledgerlink.connectors.financialhost.errors`.
"""

from __future__ import annotations

import ssl
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from pydantic import ValidationError as SchemaError

from ledgerlink.connectors._kit.lifecycle import Closable, ClosesClients
from ledgerlink.connectors._kit.retry import RetryPolicy, call_with_retries
from ledgerlink.connectors.contract import (
    Batch,
    Capabilities,
    ConnectionInfo,
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    OutgoingDocument,
    Permanent,
    PlannedRequest,
    PushResult,
    StatusUpdate,
)
from ledgerlink.connectors.financialhost import errors, mapping
from ledgerlink.connectors.financialhost.mapping import ErpChange
from ledgerlink.connectors.financialhost.relay import AuditAnchors, RelayQueue, RelayTransport
from ledgerlink.connectors.financialhost.settings import (
    FinancialHostCredentials,
    FinancialHostSettings,
)
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import TotalsRule, VatRounding
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.work import Project
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import AnswerNotAuthentic, SignedClient, WireAnswer
from ledgerlink.wire.relay import AuditAnchor
from ledgerlink.wire.signing import SigningKey

#: The ERP systems behind FinancialHost, as named in messages.
ERP_NAMES = {"nav": "Dynamics NAV", "visma": "Visma Administration"}
#: The origin the signing client is given for a host in agent mode (the relay ignores it).
RELAY_ORIGIN = "https://financialhost.agent"
#: NAV's ``Posting Description`` (the invoice heading) holds 50 characters.
NAV_MAX_HEADING = 50
#: Every wire operation this connector sends; nothing else can be asked of the host.
OPERATIONS_USED = frozenset(
    {
        "connection.test",
        "host.version",
        "customer.find",
        "customers.read",
        "customer.upsert",
        "contact.upsert",
        "employee.ensure",
        "project.ensure",
        "products.read",
        "document.find",
        "document.create_draft",
        "statuses.read",
        "expenses.read",
        "changes.read",
        "job.status",
    }
)

#: Writes whose finished success answers the same content sent again: a draft exists once (the
#: host finds it by its correlation anyway), an ensured employee or project stays ensured.
REUSE_SUCCESS = frozenset({"document.create_draft", "employee.ensure", "project.ensure"})
#: How often the very same content may run again (a bound, not a business rule).
MAX_FOLLOW_UPS = 20

_R = TypeVar("_R", bound=ops.WireModel)


def _planned(operation: str, request: ops.WireModel, purpose: str) -> PlannedRequest:
    return PlannedRequest("POST", f"/v1/ops/{operation}", request.model_dump(mode="json"), purpose)


def capabilities_for(erp_system: str) -> Capabilities:
    """What the connector supports with the ERP behind the host (the reference product's
    behaviour, ``erp-facts/dynamics-nav.md`` and ``visma-administration.md`` §1.2).

    NAV takes contacts, employees (from the employee template) and projects (as a global
    dimension value), and is the one ERP where customers may be mastered on both sides. Visma
    takes employees as "säljare" but no projects: they must exist in Visma already.
    """
    if erp_system == "nav":
        return Capabilities(
            customer_push=True,
            customer_import=True,
            contact_push=True,
            employee_push=True,
            project_push=True,
            product_import=True,
            invoice_push=True,
            credit_note_push=True,
            balancing=True,
            expense_import=True,
            customer_master_modes=frozenset(
                {CustomerMaster.PSA, CustomerMaster.ERP, CustomerMaster.BOTH}
            ),
            dimensions=("project", "department"),
            max_heading_length=NAV_MAX_HEADING,
            # NAV computes each sales line's Amount Including VAT (VAT rounded per line) and
            # sums the lines (dynamics-nav.md: "NAV VAT setup computes").
            totals=TotalsRule(erp="Dynamics NAV", vat=VatRounding.PER_LINE),
        )
    if erp_system == "visma":
        return Capabilities(
            customer_push=True,
            customer_import=True,
            contact_push=False,
            employee_push=True,
            project_push=False,
            product_import=True,
            invoice_push=True,
            credit_note_push=True,
            balancing=True,
            expense_import=True,
            customer_master_modes=frozenset({CustomerMaster.PSA, CustomerMaster.ERP}),
            dimensions=("project",),
            # Visma sums the VAT of the rows and rounds it once, and rounds an invoice in
            # the company's currency (SEK) to whole kronor with a rounding amount
            # (visma-administration.md §1.3: "plus a rounding line").
            totals=TotalsRule(
                erp="Visma", vat=VatRounding.PER_DOCUMENT, whole_units=frozenset({"SEK"})
            ),
        )
    raise ValueError(f"FinancialHost serves 'nav' or 'visma', not '{erp_system}'")


def tls_context(
    settings: FinancialHostSettings, credentials: FinancialHostCredentials
) -> ssl.SSLContext:
    """TLS 1.2+ trusting only the pinned certificate (or the system store when none is set),
    presenting the client certificate when the credentials hold one."""
    if settings.tls_certificate:
        context = ssl.create_default_context(cadata=settings.tls_certificate)
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if credentials.uses_client_certificate:
        _load_client_certificate(
            context, credentials.client_certificate, credentials.client_key.get_secret_value()
        )
    return context


def _load_client_certificate(context: ssl.SSLContext, certificate: str, key: str) -> None:
    # The ssl module loads a certificate chain from files only. The PEMs live for the moment
    # of loading in a private directory (0700, files 0600) that is removed at once.
    with tempfile.TemporaryDirectory(prefix="ledgerlink-fh-") as directory:
        cert_file, key_file = Path(directory, "client.pem"), Path(directory, "client.key")
        for path, text in ((cert_file, certificate), (key_file, key)):
            path.touch(mode=0o600)
            path.write_text(text, encoding="utf-8")
        try:
            context.load_cert_chain(str(cert_file), str(key_file))
        except ssl.SSLError as error:
            raise Permanent(
                f"the client certificate or key in the connection cannot be used: {error}",
                hint="Paste the client certificate and its private key (PEM, unencrypted).",
            ) from None


def signed_client(
    settings: FinancialHostSettings,
    credentials: FinancialHostCredentials,
    *,
    transport: httpx2.BaseTransport | None = None,
) -> SignedClient:
    """The signing HTTPS client for one host (it refuses operations outside the wire's
    allow-list before sending anything)."""
    key = SigningKey(credentials.key_id, credentials.secret.get_secret_value().encode())
    return SignedClient(
        settings.base_url or RELAY_ORIGIN,
        keys=[key],
        verify=tls_context(settings, credentials),
        timeout=settings.timeout_seconds,
        transport=transport,
    )


class FinancialHostConnector(ClosesClients):
    """Connector for one FinancialHost and the NAV or Visma company behind it (see the module
    docstring). Implements the whole :class:`~ledgerlink.connectors.contract.ErpConnector`;
    what the ERP cannot do (:func:`capabilities_for`) raises Permanent. :meth:`changes` reads
    the ERP's change log, beyond the contract.

    Identifiers: customers by customer number (also their external id); contacts, employees
    and projects by what the host's plugin returns; documents by the ERP's document id, and
    always findable by their correlation reference.
    """

    def __init__(
        self,
        *,
        credentials: FinancialHostCredentials,
        settings: FinancialHostSettings,
        transport: httpx2.BaseTransport | None = None,
        relay: RelayQueue | None = None,
        anchors: AuditAnchors | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        # An agent's audit anchor comes with its heartbeat; a host called directly gives its
        # own with connection.test, and the hub keeps it here.
        self._anchors = None if settings.via_agent else anchors
        self._retry = retry
        self.capabilities = capabilities_for(settings.erp_system)
        self._erp = ERP_NAMES[settings.erp_system]
        if settings.via_agent:
            if relay is None:
                raise ValueError(
                    "a host in agent mode is reached through the hub's relay; none given"
                )
            transport = RelayTransport(relay, settings.agent_id)
        self._client = signed_client(settings, credentials, transport=transport)
        self._sleep = sleep
        self._clock = clock
        self._base_currency: str | None = None

    @classmethod
    def from_connection(
        cls,
        credentials: Mapping[str, str],
        settings: Mapping[str, Any],
        *,
        relay: RelayQueue | None = None,
        anchors: AuditAnchors | None = None,
        retry: RetryPolicy | None = None,
    ) -> FinancialHostConnector:
        """Build from a connection's decrypted credentials and its settings (the registry);
        ``relay`` reaches hosts in agent mode, ``anchors`` keeps direct hosts' audit heads."""
        return cls(
            credentials=FinancialHostCredentials.model_validate(dict(credentials)),
            settings=FinancialHostSettings.model_validate(dict(settings)),
            relay=relay,
            anchors=anchors,
            retry=retry,
        )

    # lifecycle ----------------------------------------------------------------------------
    def _closing(self) -> Sequence[Closable | None]:
        return (self._client,)

    # plumbing -----------------------------------------------------------------------------
    def _send(self, operation: str, request: ops.WireModel, *, write: bool) -> WireAnswer:
        try:
            return self._client.call(operation, request)
        except AnswerNotAuthentic as error:
            raise errors.not_authentic(error) from None
        except httpx2.TransportError as error:
            raise errors.transport_error(
                error,
                url=self.settings.host_name,
                operation=operation,
                write=write,
                agent=self.settings.via_agent,
            ) from None

    def _parse(self, operation: str, model: type[_R], body: Mapping[str, Any] | None) -> _R:
        try:
            return model.model_validate(body or {})
        except SchemaError as error:
            raise errors.malformed(operation, error) from None

    def _read(self, operation: str, request: ops.WireModel, result: type[_R]) -> _R:
        """A read, retried while Transient (the one retry loop of this connector's calls)."""

        def attempt() -> _R:
            answer = self._send(operation, request, write=False)
            if answer.status != 200:
                raise errors.answer_error(answer, operation=operation, write=False, erp=self._erp)
            return self._parse(operation, result, answer.body)

        return call_with_retries(attempt, policy=self._retry)

    def _job(self, key: str) -> ops.JobOutcome | None:
        """The host's job under ``key``, or ``None`` if it has none."""
        return call_with_retries(lambda: self._job_once(key), policy=self._retry)

    def _job_once(self, key: str) -> ops.JobOutcome | None:
        answer = self._send("job.status", ops.JobQuery(idempotency_key=key), write=False)
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise errors.answer_error(answer, operation="job.status", write=False, erp=self._erp)
        return self._parse("job.status", ops.JobOutcome, answer.body)

    def _stored(self, operation: str, base: str) -> tuple[str, ops.JobOutcome | None]:
        """The key to send under, and the job to use instead of sending, if there is one.

        A pending job with this content is waited for, not sent again. A finished one is the
        answer only for writes in :data:`REUSE_SUCCESS`; otherwise the content runs again under
        a follow-up key: after a refusal the user has fixed something in the ERP, and an upsert
        must overwrite what the ERP holds now (an edit there, or a change the PSA reverted).
        """
        key = base
        for _ in range(MAX_FOLLOW_UPS):
            stored = self._job(key)
            if stored is None:
                return key, None
            if stored.state is ops.JobState.PENDING or (
                stored.state is ops.JobState.SUCCEEDED and operation in REUSE_SUCCESS
            ):
                return key, stored
            key = mapping.follow_up_key(base, stored.job_id)
        raise Permanent(
            f"{operation} with this content was sent {MAX_FOLLOW_UPS} times already",
            hint="This is a ledgerlink fault; report it with the host's audit log.",
        )

    def _write(self, operation: str, request: ops.WireModel, result: type[_R]) -> _R:
        """Send a write (unless the host holds its job already) and wait for its job."""
        key, outcome = self._stored(operation, getattr(request, "idempotency_key"))  # noqa: B009
        if outcome is None:
            request = request.model_copy(update={"idempotency_key": key})
            answer = self._send(operation, request, write=True)
            if answer.status not in (200, 202):
                raise errors.answer_error(answer, operation=operation, write=True, erp=self._erp)
            outcome = self._parse(operation, ops.JobOutcome, answer.body)
        deadline = self._clock() + self.settings.job_wait_seconds
        while outcome.state is ops.JobState.PENDING:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise errors.job_pending(outcome, now=datetime.now(UTC))
            self._sleep(min(self.settings.poll_interval_seconds, remaining))
            outcome = self._read("job.status", ops.JobQuery(idempotency_key=key), ops.JobOutcome)
        if outcome.state is ops.JobState.FAILED:
            raise errors.job_failed(outcome, erp=self._erp)
        return self._parse(operation, result, outcome.result)

    def _require(self, supported: bool, what: str, hint: str) -> None:
        if not supported:
            raise Permanent(f"{self._erp} behind FinancialHost does not take {what}", hint=hint)

    def _base(self) -> str:
        if self._base_currency is None:
            self.verify()
        return self._base_currency or ""

    # Connector ----------------------------------------------------------------------------
    def verify(self) -> ConnectionInfo:
        """``connection.test`` (the ERP company behind the host) and ``host.version``. A host
        whose plugin serves the other ERP than the connection says is refused, since the
        capabilities would be wrong."""
        host = self.settings.base_url
        held = self._anchors.held(host) if self._anchors is not None else None
        test = ops.ConnectionTest(audit_held_count=held)
        info = self._read("connection.test", test, ops.ConnectionInfo)
        self._keep_audit(host, info.audit)
        if info.system in ERP_NAMES and info.system != self.settings.erp_system:
            raise Permanent(
                f"FinancialHost serves {ERP_NAMES[info.system]}, but the connection is set up "
                f"for {self._erp}",
                hint=f"Set erp_system to '{info.system}' in the connection's settings.",
            )
        self._base_currency = info.base_currency
        details = [
            ("erp_system", info.system),
            ("erp_version", info.erp_version),
            ("host_version", info.host_version),
        ]
        try:
            version = self._read("host.version", ops.Empty(), ops.VersionInfo)
        except Permanent as error:
            if error.status != 403:  # a host may keep host.version off its allow-list
                raise
        else:
            details = [
                ("erp_system", info.system),
                ("erp_version", info.erp_version or version.erp_version),
                ("host_version", info.host_version or version.host_version),
                ("wire_version", version.wire_version),
                ("plugin", version.plugin),
            ]
        return ConnectionInfo(
            company_name=info.company_name,
            account_id=info.account_id,
            base_currency=info.base_currency,
            details=tuple((name, value) for name, value in details if value),
        )

    def _keep_audit(self, host: str, anchor: AuditAnchor | None) -> None:
        """Hand the host's audit head to the hub's anchors; a disagreement with what the hub
        saw before (records removed, rewritten or replaced) stops the verification."""
        if self._anchors is None or anchor is None:
            return
        problem = self._anchors.keep(host, **anchor.model_dump())
        if problem:
            raise Permanent(
                f"FinancialHost {host}: {problem}",
                hint="Someone changed the host's audit log: run 'ledgerlink host audit verify' "
                "on the host and find out who; the hub keeps reporting it.",
            )

    # CustomerSync ---------------------------------------------------------------------------
    def find_customer(self, number: str) -> ErpCustomer | None:
        """``customer.find``: the ERP customer with this number, or ``None``."""
        if not number.strip():
            return None
        found = self._read("customer.find", mapping.customer_find(number), ops.CustomerFound)
        return mapping.erp_customer(found.customer) if found.customer else None

    def create_customer(self, customer: Customer) -> PushResult:
        """``customer.upsert`` with the PSA number (repeating it updates, never duplicates)."""
        self._require(self.capabilities.customer_push, "customers", "Import customers instead.")
        outcome = self._write("customer.upsert", mapping.customer_upsert(customer), ops.PushOutcome)
        return PushResult(external_id=outcome.external_id, created=outcome.created)

    def update_customer(self, external_id: str, customer: Customer) -> None:
        """``customer.upsert`` under the ERP's number (the external id)."""
        self._require(self.capabilities.customer_push, "customers", "Import customers instead.")
        self._write(
            "customer.upsert",
            mapping.customer_upsert(customer, number=external_id),
            ops.PushOutcome,
        )

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]:
        """``customers.read``: one page of customers changed since ``cursor`` (the host's)."""
        page = self._read("customers.read", self._page(cursor), ops.CustomerPage)
        return Batch(
            items=tuple(mapping.erp_customer(c) for c in page.items),
            cursor=page.cursor,
            more=page.more,
        )

    def _page(self, cursor: str | None) -> ops.PageRequest:
        return mapping.wire(ops.PageRequest, "cursor", cursor=cursor, limit=self.settings.page_size)

    # ContactPush ----------------------------------------------------------------------------
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult:
        """``contact.upsert`` at the customer (NAV only)."""
        self._require(
            self.capabilities.contact_push,
            "contacts",
            "Leave the invoice's contact empty, or type it in the ERP.",
        )
        outcome = self._write(
            "contact.upsert", mapping.contact_upsert(customer_ref, contact), ops.PushOutcome
        )
        return PushResult(external_id=outcome.external_id, created=outcome.created)

    # EmployeePush ---------------------------------------------------------------------------
    def ensure_employee(self, employee: Employee) -> PushResult:
        """``employee.ensure`` (NAV: from the employee template; Visma: a säljare), matched on
        initials."""
        self._require(
            self.capabilities.employee_push,
            "employees",
            f"Create employee {employee.initials} in the ERP with the same initials.",
        )
        outcome = self._write("employee.ensure", mapping.employee_ensure(employee), ops.PushOutcome)
        return PushResult(external_id=outcome.external_id, created=outcome.created)

    # ProjectPush ----------------------------------------------------------------------------
    def ensure_project(self, project: Project, customer_ref: str) -> PushResult:
        """``project.ensure`` (NAV: a value of the project dimension). Visma takes no projects."""
        self._require(
            self.capabilities.project_push,
            "projects",
            f"Projects must exist in {self._erp}: create project {project.number} there with "
            "the same number.",
        )
        outcome = self._write(
            "project.ensure", mapping.project_ensure(project, customer_ref), ops.PushOutcome
        )
        return PushResult(external_id=outcome.external_id, created=outcome.created)

    # ProductImport --------------------------------------------------------------------------
    def products(self) -> Sequence[ErpProduct]:
        """``products.read``: items or G/L accounts, as the host is set up."""
        found = self._read("products.read", ops.ProductsRead(), ops.ProductList)
        return [mapping.erp_product(p) for p in found.items]

    # InvoicePush ----------------------------------------------------------------------------
    def find_document(self, correlation: str) -> ErpDocument | None:
        """``document.find``: the draft or posting carrying ``correlation``, or ``None``."""
        found = self._read("document.find", mapping.document_find(correlation), ops.DocumentFound)
        if found.document is None:
            return None
        return mapping.erp_document(
            found.document, currency=found.document.currency or self._base()
        )

    def create_document(self, document: OutgoingDocument) -> ErpDocument:
        """``document.create_draft``: the ERP's draft with the ERP's totals. The host looks the
        correlation up in the ERP before it creates, and runs each request once."""
        if document.invoice.is_credit_note:
            self._require(self.capabilities.credit_note_push, "credit notes", "")
        else:
            self._require(self.capabilities.invoice_push, "invoices", "")
        request = mapping.draft_create(document, max_heading=self.capabilities.max_heading_length)
        result = self._write("document.create_draft", request, ops.DocumentResult)
        return mapping.erp_document(result, currency=result.currency or document.invoice.currency)

    # Preview --------------------------------------------------------------------------------
    def preview_customer(self, customer: Customer) -> list[PlannedRequest]:
        """The ``customer.upsert`` operation :meth:`create_customer` sends."""
        request = mapping.customer_upsert(customer)
        return [_planned("customer.upsert", request, f"create customer {customer.number}")]

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]:
        """The ``document.create_draft`` operation :meth:`create_document` sends."""
        request = mapping.draft_create(document, max_heading=self.capabilities.max_heading_length)
        kind = "credit note" if document.invoice.is_credit_note else "invoice"
        return [_planned("document.create_draft", request, f"create the draft {kind}")]

    # StatusPull -----------------------------------------------------------------------------
    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]:
        """``statuses.read``: one page of number/status/remainder/paid changes (with the
        posting date of a booked document, from a host that sends it) since ``cursor``."""
        page = self._read("statuses.read", self._page(cursor), ops.StatusPage)
        base = self._base() if any(not r.currency for r in page.items) else ""
        return Batch(
            items=tuple(mapping.status_update(r, currency=r.currency or base) for r in page.items),
            cursor=page.cursor,
            more=page.more,
        )

    # ExpenseImport --------------------------------------------------------------------------
    def expenses(self, cursor: str | None) -> Batch[ErpExpense]:
        """``expenses.read``: one page of the ERP's expense pool since ``cursor``."""
        page = self._read("expenses.read", self._page(cursor), ops.ExpensePage)
        base = self._base() if page.items else ""
        return Batch(
            items=tuple(mapping.erp_expense(r, base_currency=base) for r in page.items),
            cursor=page.cursor,
            more=page.more,
        )

    # beyond the contract --------------------------------------------------------------------
    def changes(self, cursor: str | None) -> Batch[ErpChange]:
        """``changes.read``: one page of the changes the ERP reported to the host (the NAV
        change log: customers, contacts, documents … inserted, modified or deleted) since
        ``cursor``. Not part of the connector contract; a pull that wants to react to ERP-side
        edits between full reads calls it directly."""
        page = self._read("changes.read", self._page(cursor), ops.ChangePage)
        return Batch(
            items=tuple(mapping.erp_change(r) for r in page.items),
            cursor=page.cursor,
            more=page.more,
        )
