"""The connector contract suite: what every connector proves against its ERP's emulator
(design §6, modelled on the Singer SDK's ``testing/``).

A check is a plain function ``check_<name>(case, connector)`` that raises
:class:`ContractViolation` (an ``AssertionError``) naming the promise a connector broke. The
suite is :data:`CHECKS`; a test module runs every check for every case, so adding an ERP means
writing one :class:`ContractCase`: how to build its connector, how to play the ERP's user
(:class:`ErpUser`) and how to make the ERP misbehave (:class:`Faults`).

Rules the checks follow:

* **Nothing is skipped.** A check of something the connector's
  :class:`~ledgerlink.connectors.contract.Capabilities` do not declare asserts the contract's
  promise instead: the method raises :class:`~ledgerlink.connectors.contract.Permanent`.
  A fault a case cannot inject raises :class:`FaultNotInjectable` with the reason, which the
  test module reports as an expected failure a reviewer sees.
* **Checks are independent.** Each uses its own correlation references and customer numbers
  (see :func:`correlation`), so they share one started ERP, in any order. The case's ERP must
  be fresh for each run of the suite.
* **A case's connectors retry quickly.** Build them with a policy like :data:`QUICK_RETRY` and
  give it as :attr:`ContractCase.retry`: the storm checks count its attempts.
"""

from __future__ import annotations

import enum
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import (
    AuthExpired,
    Batch,
    Connector,
    ErpConnector,
    ErpDocument,
    OutgoingDocument,
    Permanent,
    PostingStatus,
    PushResult,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.testing import builders
from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.money import Money

__all__ = [
    "CHECKS",
    "QUICK_RETRY",
    "Check",
    "ContractCase",
    "ContractViolation",
    "ErpUser",
    "FaultNotInjectable",
    "Faults",
    "LostAnswer",
    "correlation",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=BaseException)

#: A retry policy for the connectors a case builds: a storm costs milliseconds, not seconds.
QUICK_RETRY = RetryPolicy(attempts=3, timeout=30.0, wait_initial=0.01, wait_max=0.05, wait_jitter=0)

#: A customer number no ERP's demo data uses.
MISSING_CUSTOMER = "999999998"
#: A product number no ERP's demo data has (for the bad-input check).
MISSING_PRODUCT = "NO-SUCH-PRODUCT"
#: A short server wait (below any policy's ``max_retry_after``) and a long one (above it).
SHORT_WAIT = 1.0
LONG_WAIT = 60.0


# what a case implements -----------------------------------------------------------------------


class ContractViolation(AssertionError):
    """A connector broke a promise of the contract; the message names the promise."""


class FaultNotInjectable(Exception):
    """The case cannot make its ERP misbehave this way; the message says why."""


class LostAnswer(enum.StrEnum):
    """What the connector sees when its ERP loses the answer to a write that took effect."""

    UNCERTAIN = "uncertain"
    """The connector heard nothing: it must raise Uncertain (the engine then looks the
    correlation up before anything is sent again)."""
    RECONCILED = "reconciled"
    """A layer between the connector and the ERP (FinancialHost) lost the answer and
    reconciled it itself: the connector gets the one document."""


class ErpUser(Protocol):
    """The ERP's user and books, as a test plays them."""

    def book(self, document: ErpDocument) -> str:
        """Book (post) the draft ``document`` as the ERP's user would; return its booked
        number."""
        ...

    def pay(self, booked_number: str, amount: Money) -> None:
        """Register a customer payment of ``amount`` on the booked document."""
        ...

    def count_documents(self, correlation: str) -> int:
        """How many documents (drafts and booked) the ERP holds with ``correlation``, read
        from the ERP's own books, not through the connector."""
        ...


class Faults(Protocol):
    """The ERP misbehaving. Each method may raise :class:`FaultNotInjectable`."""

    def lose_next_write_answer(self) -> LostAnswer:
        """The next document create takes effect, and its answer is lost; return what the
        connector is to see."""
        ...

    def rate_limit_next(self, retry_after: float) -> None:
        """Answer the next request 429 with ``Retry-After: retry_after``, then normally."""
        ...

    def storm(self, *, writes_only: bool = False) -> None:
        """Answer every request (only writes, and what the ERP does for them) 5xx until
        :meth:`clear`."""
        ...

    def revoke_credentials(self) -> None:
        """Revoke the connector's credentials at the ERP until :meth:`clear`."""
        ...

    def clear(self) -> None:
        """End every fault, restore the credentials and restart :meth:`requests` at 0."""
        ...

    def requests(self) -> int:
        """How many requests from the case's connectors the ERP received since
        :meth:`clear`."""
        ...


class ContractCase(Protocol):
    """One ERP, started, with a connector to it (see the module docstring)."""

    @property
    def name(self) -> str: ...

    @property
    def existing_customer(self) -> str:
        """The number of a customer the ERP has (for find and link)."""
        ...

    @property
    def product(self) -> str:
        """A product number the ERP has (for the documents' lines)."""
        ...

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy the case's connectors are built with."""
        ...

    @property
    def erp(self) -> ErpUser: ...

    @property
    def faults(self) -> Faults: ...

    def connector(self, *, page_size: int | None = None) -> ErpConnector:
        """A new connector to the ERP (its reads paged by ``page_size`` where given); the
        caller closes it."""
        ...


Check = Callable[[ContractCase, ErpConnector], None]


# helpers ------------------------------------------------------------------------------------------


def correlation(check: str, n: int = 1) -> str:
    """The correlation reference a check uses for its ``n``-th document (unique per check)."""
    return f"ll:ct:{check}:{n}"


def _expect(condition: bool, promise: str) -> None:
    if not condition:
        raise ContractViolation(promise)


def _raises(kind: type[_E], call: Callable[[], object], promise: str) -> _E:
    """Call ``call``; return the ``kind`` it raised, or raise ContractViolation."""
    try:
        result = call()
    except kind as error:
        return error
    except Exception as error:
        raise ContractViolation(f"{promise}; it raised {type(error).__name__}: {error}") from error
    raise ContractViolation(f"{promise}; it returned {result!r}")


def _works(call: Callable[[], _T], promise: str) -> _T:
    """Call ``call``; what it raises is a broken ``promise``."""
    try:
        return call()
    except Exception as error:
        raise ContractViolation(f"{promise}; it raised {type(error).__name__}: {error}") from error


def _unsupported(call: Callable[[], object], what: str) -> None:
    _raises(
        Permanent, call, f"{what} is not in the connector's capabilities, so it raises Permanent"
    )


def _drain(
    read: Callable[[str | None], Batch[_T]], cursor: str | None = None, *, max_batches: int = 500
) -> tuple[list[_T], str | None]:
    """Every item from ``cursor`` on, following ``more``; and the cursor to store after."""
    items: list[_T] = []
    for _ in range(max_batches):
        batch = read(cursor)
        items.extend(batch.items)
        following = batch.cursor if batch.cursor is not None else cursor
        if not batch.more:
            return items, following
        _expect(following != cursor, "a batch with more to come moves its cursor on")
        cursor = following
    raise ContractViolation(f"an incremental read did not end within {max_batches} batches")


def _document(case: ContractCase, check: str, document: Invoice | None = None) -> OutgoingDocument:
    doc = document if document is not None else builders.invoice()
    return builders.outgoing(
        doc,
        correlation=correlation(check),
        customer_ref=case.existing_customer,
        line_products=builders.line_products(doc, case.product),
    )


def _same_totals(found: ErpDocument, document: OutgoingDocument, what: str) -> None:
    totals = document.invoice.compute_totals()
    _expect(
        (found.net, found.vat, found.gross) == (totals.net, totals.vat, totals.gross),
        f"{what} carries the ERP's totals {found.net}/{found.vat}/{found.gross}, equal to the "
        f"document's {totals.net}/{totals.vat}/{totals.gross}",
    )


def _exactly_one(case: ContractCase, ref: str, what: str) -> None:
    held = case.erp.count_documents(ref)
    _expect(held == 1, f"{what}: the ERP holds exactly one document {ref}, not {held}")


def _customer_ref(case: ContractCase, connector: ErpConnector) -> str:
    found = connector.find_customer(case.existing_customer)
    _expect(found is not None, f"customer {case.existing_customer} is found in the ERP")
    assert found is not None
    return found.external_id


def _twice_one(first: PushResult, second: PushResult, what: str) -> None:
    _expect(bool(first.external_id), f"ensuring {what} gives its external id")
    _expect(first.created, f"ensuring a new {what} says it was created")
    _expect(
        second.external_id == first.external_id,
        f"ensuring {what} again finds the same one ({first.external_id}), not {second.external_id}",
    )


# the checks ---------------------------------------------------------------------------------------


def check_verify(case: ContractCase, connector: ErpConnector) -> None:
    """The credentials open an account: its company, id and base currency."""
    _expect(isinstance(connector, Connector), "the connector implements Connector")
    info = connector.verify()
    _expect(bool(info.company_name), "verify names the company")
    _expect(bool(info.account_id), "verify names the account")
    _expect(
        re.fullmatch(r"[A-Z]{3}", info.base_currency) is not None,
        f"verify gives the base currency as an ISO code, not {info.base_currency!r}",
    )


def check_products(case: ContractCase, connector: ErpConnector) -> None:
    """Product numbers import from the ERP, each once."""
    if not connector.capabilities.product_import:
        _unsupported(connector.products, "product import")
        return
    numbers = [p.number for p in connector.products()]
    _expect(case.product in numbers, f"product {case.product} is among the imported products")
    _expect(len(numbers) == len(set(numbers)), "every product is imported once")


def check_customers(case: ContractCase, connector: ErpConnector) -> None:
    """An existing customer is found (to link it), a missing one is not; a new one is created,
    found, updated and read back by the incremental read."""
    existing = connector.find_customer(case.existing_customer)
    _expect(
        existing is not None and bool(existing.name) and bool(existing.external_id),
        f"customer {case.existing_customer} is found with its name and external id",
    )
    _expect(
        connector.find_customer(MISSING_CUSTOMER) is None,
        f"a customer number the ERP does not have ({MISSING_CUSTOMER}) finds nothing",
    )
    new = builders.customer(number="4701")
    if not connector.capabilities.customer_push:
        _unsupported(lambda: connector.create_customer(new), "customer push")
        return
    created = connector.create_customer(new)
    found = connector.find_customer(new.number)
    _expect(
        found is not None and found.external_id == created.external_id,
        f"the created customer {new.number} is found under its external id",
    )
    assert found is not None
    _expect(found.name == new.name, f"the created customer is named {new.name!r}")
    renamed = builders.customer(number=new.number, name="Hansen Byg Holding A/S")
    connector.update_customer(created.external_id, renamed)
    updated = connector.find_customer(new.number)
    _expect(
        updated is not None and updated.name == renamed.name,
        f"the updated customer is named {renamed.name!r}",
    )
    if not connector.capabilities.customer_import:
        _unsupported(lambda: connector.customers(None), "customer import")
        return
    read, _ = _drain(connector.customers)
    _expect(
        any(c.external_id == created.external_id for c in read),
        "the customer import reads the created customer",
    )


def check_paging(case: ContractCase, connector: ErpConnector) -> None:
    """A read over more than one page (page size 2) gives every item once, the same items as
    the default page size, one request per page at least."""
    if not connector.capabilities.customer_import:
        _unsupported(lambda: connector.customers(None), "customer import")
        return
    if connector.capabilities.customer_push:
        for number in ("4711", "4712", "4713"):
            connector.create_customer(builders.customer(number=number, name=f"Side {number} ApS"))
    everyone = {c.external_id for c in _drain(connector.customers)[0]}
    small = case.connector(page_size=2)
    try:
        case.faults.clear()
        paged = [c.external_id for c in _drain(small.customers)[0]]
        requests = case.faults.requests()
    finally:
        small.close()
    _expect(len(paged) > 2, f"the ERP has more than one page of 2 customers ({len(paged)})")
    _expect(len(paged) == len(set(paged)), "no customer is read twice across pages")
    _expect(set(paged) == everyone, "pages of 2 read the same customers as one large page")
    pages = math.ceil(len(paged) / 2)
    _expect(
        requests >= pages,
        f"{len(paged)} customers in pages of 2 take {pages} requests at least, not {requests}",
    )


def check_invoice_and_credit_note(case: ContractCase, connector: ErpConnector) -> None:
    """An invoice and a credit note become drafts with the ERP's totals, equal to ours."""
    document = _document(case, "invoice")
    if not connector.capabilities.invoice_push:
        _unsupported(lambda: connector.create_document(document), "invoice push")
    else:
        created = connector.create_document(document)
        _expect(created.correlation == document.correlation, "the draft carries its correlation")
        _expect(bool(created.external_id), "the draft has an external id")
        _same_totals(created, document, "the invoice draft")
    note = _document(case, "credit-note", builders.credit_note())
    if not connector.capabilities.credit_note_push:
        _unsupported(lambda: connector.create_document(note), "credit note push")
        return
    credited = connector.create_document(note)
    _same_totals(credited, note, "the credit note draft")
    _expect(credited.gross.amount < 0, "a credit note's gross amount is negative")


def check_find_by_correlation(case: ContractCase, connector: ErpConnector) -> None:
    """A document is found by its correlation (an idempotent re-transfer looks before it
    creates), and nothing is found before it exists."""
    document = _document(case, "find")
    if not connector.capabilities.invoice_push:
        _unsupported(lambda: connector.create_document(document), "invoice push")
        return
    _expect(
        connector.find_document(document.correlation) is None,
        "a correlation never sent finds nothing",
    )
    created = connector.create_document(document)
    found = connector.find_document(document.correlation)
    _expect(
        found is not None and found.external_id == created.external_id,
        "the created document is found by its correlation",
    )
    assert found is not None
    _expect(found.gross == created.gross, "the found document has the created one's gross")


def check_balancing(case: ContractCase, connector: ErpConnector) -> None:
    """After the ERP's user books the draft, balancing reports it booked and open with its
    number; after the payment, paid with nothing left; after that, not again."""
    if not connector.capabilities.balancing:
        _unsupported(lambda: connector.statuses(None), "balancing")
        return
    document = _document(case, "balancing")
    created = connector.create_document(document)
    booked_number = case.erp.book(created)

    read, cursor = _drain(connector.statuses)
    mine = [u for u in read if u.correlation == document.correlation]
    _expect(len(mine) == 1, f"balancing reports the booked document once, not {len(mine)} times")
    update = mine[0]
    _expect(update.status is PostingStatus.BOOKED, f"the document is booked, not {update.status}")
    _expect(update.booked_number == booked_number, f"its booked number is {booked_number}")
    _expect(not update.paid, "a booked document nobody paid is not paid")
    _expect(update.remainder == created.gross, "the unpaid remainder is the gross amount")
    found = connector.find_document(document.correlation)
    _expect(
        found is not None and found.booked_number == booked_number,
        "the booked document is still found by its correlation, with its booked number",
    )

    case.erp.pay(booked_number, created.gross)
    read, cursor = _drain(connector.statuses, cursor)
    paid = [u for u in read if u.correlation == document.correlation]
    _expect(len(paid) == 1 and paid[0].paid, "after the full payment balancing reports it paid")
    remainder = paid[0].remainder
    _expect(remainder is not None and remainder.is_zero(), "a paid document has nothing left")
    read, _ = _drain(connector.statuses, cursor)
    _expect(
        not [u for u in read if u.correlation == document.correlation],
        "a paid document is not reported again after the cursor that reported it paid",
    )


def check_bad_input(case: ContractCase, connector: ErpConnector) -> None:
    """A document the ERP refuses (an unknown product) is Permanent with the ERP's text, a
    hint and the field at fault, and leaves nothing behind."""
    doc = builders.invoice()
    document = builders.outgoing(
        doc,
        correlation=correlation("bad-input"),
        customer_ref=case.existing_customer,
        line_products=builders.line_products(doc, MISSING_PRODUCT),
    )
    if not connector.capabilities.invoice_push:
        _unsupported(lambda: connector.create_document(document), "invoice push")
        return
    refused = _raises(
        Permanent,
        lambda: connector.create_document(document),
        "a document with an unknown product is refused as Permanent",
    )
    _expect(bool(refused.erp_text), "the refusal carries the ERP's own text")
    _expect(bool(refused.hint), "the refusal carries a hint for the user")
    _expect(bool(refused.field_errors), "the refusal names the field at fault")
    held = case.erp.count_documents(document.correlation)
    _expect(held == 0, f"a refused document leaves nothing in the ERP, not {held}")


def check_preview(case: ContractCase, connector: ErpConnector) -> None:
    """A preview renders the writes a transfer would send and sends none of them."""
    new = builders.customer(number="4721", name="Preview Kunde A/S")
    document = _document(case, "preview")
    planned = [
        *connector.preview_customer(new),
        *connector.preview_document(document),
        *connector.preview_document(document, new_customer=new),
    ]
    _expect(len(planned) >= 3, "each preview names at least one request")
    for request in planned:
        _expect(
            request.method in {"POST", "PUT", "PATCH", "DELETE"} and bool(request.path),
            f"a planned request is a write with a path, not {request.method} {request.path!r}",
        )
        _expect(request.body is not None, f"the planned {request.method} has its body")
    _expect(connector.find_customer(new.number) is None, "a previewed customer is not created")
    held = case.erp.count_documents(document.correlation)
    _expect(held == 0, f"a previewed document is not created ({held} in the ERP)")


def check_lost_answer(case: ContractCase, connector: ErpConnector) -> None:
    """A create whose answer is lost after it took effect is Uncertain (or reconciled by the
    layer that lost it); the correlation then finds it, and the ERP holds exactly one."""
    document = _document(case, "lost-answer")
    if not connector.capabilities.invoice_push:
        _unsupported(lambda: connector.create_document(document), "invoice push")
        return
    seen = case.faults.lose_next_write_answer()
    if seen is LostAnswer.UNCERTAIN:
        _raises(
            Uncertain,
            lambda: connector.create_document(document),
            "a create whose answer was lost is Uncertain",
        )
        created = None
    else:
        created = connector.create_document(document)
    found = connector.find_document(document.correlation)
    _expect(found is not None, "after a lost answer the correlation finds the document")
    assert found is not None
    if created is not None:
        _expect(
            found.external_id == created.external_id,
            "the reconciled answer names the document the ERP holds",
        )
    _same_totals(found, document, "the document found after the lost answer")
    _exactly_one(case, document.correlation, "after a lost answer")


def check_rate_limit_short_wait(case: ContractCase, connector: ErpConnector) -> None:
    """A 429 with a short Retry-After is sat out by the connector's one retry owner: the call
    succeeds after the wait, with one request more than without it."""
    connector.verify()
    case.faults.clear()
    connector.verify()
    plain = case.faults.requests()
    case.faults.clear()
    case.faults.rate_limit_next(SHORT_WAIT)
    started = time.monotonic()
    _works(connector.verify, f"a 429 with Retry-After {SHORT_WAIT} s is retried after the wait")
    waited = time.monotonic() - started
    _expect(waited >= SHORT_WAIT - 0.05, f"the server's {SHORT_WAIT} s wait was sat out")
    sent = case.faults.requests()
    _expect(
        sent == plain + 1,
        f"a 429 costs one request more ({plain} + 1), not {sent - plain}",
    )


def check_rate_limit_long_wait(case: ContractCase, connector: ErpConnector) -> None:
    """A 429 with a wait longer than the policy sits out comes back at once as Transient with
    that wait, after one request (the workflow resumes the transfer later)."""
    case.faults.clear()
    case.faults.rate_limit_next(LONG_WAIT)
    started = time.monotonic()
    error = _raises(
        Transient, connector.verify, f"a 429 with Retry-After {LONG_WAIT} s is Transient"
    )
    took = time.monotonic() - started
    _expect(
        error.retry_after is not None and abs(error.retry_after - LONG_WAIT) <= 1,
        f"the Transient carries the server's wait ({LONG_WAIT} s), not {error.retry_after}",
    )
    _expect(
        took < case.retry.max_retry_after, f"a long wait is handed back, not slept ({took:.1f} s)"
    )
    sent = case.faults.requests()
    _expect(sent == 1, f"a long wait is not retried: 1 request, not {sent}")


def check_storm_read(case: ContractCase, connector: ErpConnector) -> None:
    """Under a 5xx storm a read is Transient after exactly the retry policy's attempts (one,
    if the server asked for a wait longer than the policy sits out); it works once the storm
    ends."""
    case.faults.storm()
    error = _raises(
        Transient,
        lambda: connector.find_customer(case.existing_customer),
        "a read under a 5xx storm is Transient",
    )
    sent = case.faults.requests()
    handed_back = error.retry_after is not None and error.retry_after > case.retry.max_retry_after
    attempts = 1 if handed_back else case.retry.attempts
    _expect(
        sent == attempts,
        f"a read under a storm costs {attempts} request(s) (retry policy, server wait "
        f"{error.retry_after}), not {sent}",
    )
    case.faults.clear()
    _works(lambda: connector.find_customer(case.existing_customer), "after the storm a read works")


def check_storm_write(case: ContractCase, connector: ErpConnector) -> None:
    """A create under a 5xx storm fails as Transient or Uncertain, never as done or refused;
    after the storm, looking the correlation up and creating only if nothing is found (what
    the engine does) leaves exactly one document."""
    document = _document(case, "storm-write")
    if not connector.capabilities.invoice_push:
        _unsupported(lambda: connector.create_document(document), "invoice push")
        return
    case.faults.storm(writes_only=True)
    try:
        result = connector.create_document(document)
    except (Transient, Uncertain):
        pass
    except Exception as error:
        raise ContractViolation(
            f"a create under a 5xx storm is Transient or Uncertain; it raised "
            f"{type(error).__name__}: {error}"
        ) from error
    else:
        raise ContractViolation(f"a create under a 5xx storm cannot succeed; it returned {result}")
    case.faults.clear()
    held = case.erp.count_documents(document.correlation)
    _expect(held <= 1, f"a create under a storm leaves one document at most, not {held}")
    found = connector.find_document(document.correlation)
    if found is None:
        found = connector.create_document(document)
    _same_totals(found, document, "the document after the storm")
    _exactly_one(case, document.correlation, "after a storm and a retry")


def check_auth_expired(case: ContractCase, connector: ErpConnector) -> None:
    """Revoked credentials are AuthExpired with a hint that sends the user to connect
    again; once restored the same connector works."""
    case.faults.revoke_credentials()
    error = _raises(AuthExpired, connector.verify, "revoked credentials are AuthExpired")
    _expect(
        re.search(r"connect", error.hint, re.IGNORECASE) is not None,
        f"the hint sends the user to the connection (connect again), not {error.hint!r}",
    )
    case.faults.clear()
    _works(connector.verify, "once the credentials are restored the same connector works")


def check_contacts(case: ContractCase, connector: ErpConnector) -> None:
    """A contact is found or created at its customer: twice gives one."""
    contact = builders.contact(name="Kontrakt Kontakt")
    customer_ref = _customer_ref(case, connector)
    if not connector.capabilities.contact_push:
        _unsupported(lambda: connector.ensure_contact(customer_ref, contact), "contact push")
        return
    first = connector.ensure_contact(customer_ref, contact)
    second = connector.ensure_contact(customer_ref, contact)
    _twice_one(first, second, f"contact {contact.name}")


def check_employees(case: ContractCase, connector: ErpConnector) -> None:
    """An employee is found or created: twice gives one."""
    employee = builders.employee(initials="KT", name="Karl Tester")
    if not connector.capabilities.employee_push:
        _unsupported(lambda: connector.ensure_employee(employee), "employee push")
        return
    first = connector.ensure_employee(employee)
    second = connector.ensure_employee(employee)
    _twice_one(first, second, f"employee {employee.initials}")


def check_projects(case: ContractCase, connector: ErpConnector) -> None:
    """A project is found or created for its customer: twice gives one."""
    project = builders.project(number="7101", name="Kontraktprojekt")
    customer_ref = _customer_ref(case, connector)
    if not connector.capabilities.project_push:
        _unsupported(lambda: connector.ensure_project(project, customer_ref), "project push")
        return
    first = connector.ensure_project(project, customer_ref)
    second = connector.ensure_project(project, customer_ref)
    _twice_one(first, second, f"project {project.number}")


def check_expenses(case: ContractCase, connector: ErpConnector) -> None:
    """Expenses read incrementally: the ERP's entries once, then nothing already read."""
    if not connector.capabilities.expense_import:
        _unsupported(lambda: connector.expenses(None), "expense import")
        return
    read, cursor = _drain(connector.expenses)
    _expect(bool(read), "the ERP's expense entries are read (the case's ERP has some)")
    ids = [e.external_id for e in read]
    _expect(len(ids) == len(set(ids)), "every expense entry is read once")
    for expense in read:
        _expect(not expense.amount.is_zero(), f"expense {expense.external_id} has its amount")
    again, _ = _drain(connector.expenses, cursor)
    repeated = set(ids) & {e.external_id for e in again}
    _expect(not repeated, f"reading on from the cursor repeats no entry ({sorted(repeated)})")


#: Every check, by name (the order a test module runs them in).
CHECKS: Mapping[str, Check] = {
    "verify": check_verify,
    "products": check_products,
    "customers": check_customers,
    "paging": check_paging,
    "invoice_and_credit_note": check_invoice_and_credit_note,
    "find_by_correlation": check_find_by_correlation,
    "balancing": check_balancing,
    "bad_input": check_bad_input,
    "preview": check_preview,
    "lost_answer": check_lost_answer,
    "rate_limit_short_wait": check_rate_limit_short_wait,
    "rate_limit_long_wait": check_rate_limit_long_wait,
    "storm_read": check_storm_read,
    "storm_write": check_storm_write,
    "auth_expired": check_auth_expired,
    "contacts": check_contacts,
    "employees": check_employees,
    "projects": check_projects,
    "expenses": check_expenses,
}
