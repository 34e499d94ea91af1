"""The ERP the demo transfers to, for any ERP: found by name among the specs' ``demos``, run
from the emulators' registry, connected as the spec says (steps in :mod:`.demo_transfer`).

A SaaS ERP's emulator is connected to directly. An on-premise ERP (credential kind
FinancialHost) gets a FinancialHost in front of its emulator, as at a customer's site: HTTPS
with its self-signed certificate, signed requests, the audit log, and the host's plugin of the
same name (``nav``, ``visma``) configured with what the emulator says. With ``given`` setup
values the demo uses that ERP as it is (the real one included) and books or pays nothing.
An OAuth2 ERP's emulator answers the authorize page through its rehearsal's ``consent``; the
settings a rehearsal adds beyond the spec's setup fields (a division) go to the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from rich.console import Console

from ledgerlink.cli.demo_transfer import DemoErp
from ledgerlink.connectors.registry import all_specs
from ledgerlink.connectors.spec import ConnectorSpec, CredentialKind, FieldTarget
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import ProductNumberPrinciples
from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal
from ledgerlink.emulators.registry import EMULATED
from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.client import tls_context

KEY_ID = "hub-1"


def demo_erps() -> dict[str, tuple[ConnectorSpec, EmulatedErp]]:
    """Every ERP the demo can rehearse on: name → (its connector's spec, its emulator)."""
    return {name: (spec, EMULATED[name]) for spec in all_specs() for name in spec.demos}


def find(name: str) -> tuple[ConnectorSpec, EmulatedErp]:
    """The spec and emulator of ``name``; an unknown name is a clear error."""
    found = demo_erps()
    if name not in found:
        raise ValidationError(f"--erp must be one of: {', '.join(sorted(found))}")
    return found[name]


@contextmanager
def demo_erp(
    name: str,
    folder: Path,
    projects: Sequence[tuple[str, str]],
    given: Mapping[str, str] | None = None,
) -> Iterator[DemoErp]:
    """The :class:`DemoErp` of ``name``: its emulator (state in ``folder``), or with ``given``
    setup values the ERP they name."""
    spec, emulated = find(name)
    principles = ProductNumberPrinciples.from_json(emulated.products)
    if given:
        yield _given(spec, emulated, principles, given)
        return
    with emulated.start(folder, projects) as rehearsal:
        if spec.credential_kind is CredentialKind.FINANCIALHOST:
            with _fronted(spec, emulated, rehearsal, folder, principles) as target:
                yield target
            return
        yield DemoErp(
            title=emulated.title,
            erp=spec.name,
            credentials=dict(rehearsal.credentials),
            settings=dict(rehearsal.settings),
            principles=principles,
            where=rehearsal.where,
            erp_user=_erp_user(rehearsal),
            consent=_consent(emulated, rehearsal),
            notes=rehearsal.notes,
        )


def company(name: str) -> tuple[str, str]:
    """The country and currency of the company the demo rehearses on with ``name``: the demo
    bills from a legal entity of the same (a Visma Administration company is Swedish)."""
    _, emulated = find(name)
    return emulated.country, emulated.currency


def _erp_user(rehearsal: Rehearsal) -> Callable[[Console, Collection[str]], None] | None:
    act = rehearsal.erp_user
    return None if act is None else (lambda console, agreed: console.print(act(agreed)))


def _consent(emulated: EmulatedErp, rehearsal: Rehearsal) -> Callable[[str], None] | None:
    """The rehearsal's consent, its failure (an emulator that did not grant) one clear line."""
    give = rehearsal.consent
    if give is None:
        return None

    def consent(url: str) -> None:
        try:
            give(url)
        except (RuntimeError, httpx2.HTTPError) as error:
            raise ValidationError(f"{emulated.title} did not grant access: {error}") from None

    return consent


def _given(
    spec: ConnectorSpec,
    emulated: EmulatedErp,
    principles: ProductNumberPrinciples,
    given: Mapping[str, str],
) -> DemoErp:
    """An ERP that is already running: ``given`` holds the spec's setup values by name."""
    known = {f.name: f for f in spec.setup}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValidationError(
            f"--setup {', '.join(unknown)}: {spec.display_name} takes " + ", ".join(sorted(known))
        )
    missing = [f.name for f in spec.setup if f.required and f.name not in given]
    if missing:
        raise ValidationError(f"--setup needs {', '.join(missing)} for {spec.display_name}")
    defaults = {f.name: f.default for f in spec.setup if f.default is not None}
    values = {**defaults, **given}

    def of(target: FieldTarget) -> dict[str, Any]:
        return {n: v for n, v in values.items() if known[n].target is target}

    return DemoErp(
        title=emulated.title,
        erp=spec.name,
        credentials=of(FieldTarget.CREDENTIAL),
        settings=of(FieldTarget.SETTING),
        principles=principles,
        where=str(values.get("base_url", spec.display_name)),
    )


# On-premise ERPs: a FinancialHost in front ---------------------------------------------------


@contextmanager
def _fronted(
    spec: ConnectorSpec,
    emulated: EmulatedErp,
    rehearsal: Rehearsal,
    folder: Path,
    principles: ProductNumberPrinciples,
) -> Iterator[DemoErp]:
    """A FinancialHost in a thread whose plugin ``emulated.name`` reaches the emulator."""
    plugin = emulated.name
    settings = HostSettings(
        data_dir=folder / f"financialhost-{plugin}",
        port=0,
        plugin=plugin,
        **{plugin: dict(rehearsal.settings)},  # type: ignore[arg-type]
    )
    vault = Vault(settings.data_dir)
    secret = vault.find(f"key:{KEY_ID}") or vault.add_key(KEY_ID)
    for key, value in rehearsal.secrets.items():
        vault.set(key, value)
    host, certificate = build_host(settings)
    with serving(host, certificate) as url:
        yield DemoErp(
            title=emulated.title,
            erp=spec.name,
            credentials={"key_id": KEY_ID, "secret": secret},
            settings={
                "base_url": url,
                "erp_system": plugin,
                "tls_certificate": certificate.cert_file.read_text(encoding="utf-8"),
            },
            principles=principles,
            where=f"FinancialHost {url} (signed HTTPS, pinned certificate) "
            f"in front of {rehearsal.where}",
            erp_user=_erp_user(rehearsal),
            epilogue=_host_epilogue(host, url, certificate.cert_file),
            notes=rehearsal.notes,
        )


def _host_epilogue(host: Host, url: str, pem_file: Path) -> Callable[[Console], None]:
    def show(console: Console) -> None:
        console.rule("10. FinancialHost")
        with httpx2.Client(verify=tls_context(verify=pem_file)) as http:
            refused = http.post(f"{url}/v1/ops/customer.upsert", json={"customer": {}})
        console.print(
            f"An unsigned request to the host was refused: HTTP {refused.status_code} "
            f"({refused.json()['error']['message']})"
        )
        report = verify_chain(host.database, host.settings.data_dir / "audit.head")
        state = "intact" if report.intact else "NOT intact"
        console.print(
            f"Audit log {state}: {report.records} hash-chained records, each MAC'd "
            f"(check it any time with 'ledgerlink host audit verify')."
        )

    return show
