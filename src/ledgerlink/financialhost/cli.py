"""``ledgerlink host …``: set up, run and inspect a FinancialHost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import ValidationError
from typer.core import TyperGroup

from ledgerlink.financialhost.alerts import send_test
from ledgerlink.financialhost.audit import AuditError, AuditLog, read_records, verify_files
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.jobs import JobQueue
from ledgerlink.financialhost.runtime import certificate_for, serve_forever
from ledgerlink.financialhost.settings import SETTINGS_FILE, HostSettings, load_settings
from ledgerlink.financialhost.vault import Vault, VaultError


class _Group(TyperGroup):
    """A vault or audit-log problem is one line on stderr and exit code 1, not a traceback."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (VaultError, AuditError) as error:
            _fail(str(error))
        except ValidationError as error:  # the settings file (e.g. a plugin section) is wrong
            _fail(f"the host's settings are not valid: {_problems(error)}")


def _problems(error: ValidationError) -> str:
    """A settings error in one line: each field and what is wrong with it."""
    parts = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in problem["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _echo_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


host_app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    help="FinancialHost: the on-premise middleware beside NAV or Visma Administration.",
)
key_app = typer.Typer(no_args_is_help=True, help="Hub signing keys (rotation with overlap).")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
secret_app = typer.Typer(no_args_is_help=True, help="Secrets in the encrypted vault.")
alerts_app = typer.Typer(no_args_is_help=True, help="E-mail and webhook alerts on failures.")
host_app.add_typer(key_app, name="key")
host_app.add_typer(audit_app, name="audit")
host_app.add_typer(secret_app, name="secret")
host_app.add_typer(alerts_app, name="alerts")

SettingsOption = Annotated[
    Path,
    typer.Option(
        "--settings",
        envvar="LEDGERLINK_HOST_SETTINGS",
        help="The host's settings file.",
    ),
]
DEFAULT_SETTINGS = Path(SETTINGS_FILE)
KeyIdArgument = Annotated[str, typer.Argument(help="The hub signing key's id, e.g. hub-2.")]

_TEMPLATE = """\
# FinancialHost settings (no secrets here: they are in the vault next to the data).
data_dir = "data"
customer_name = "{customer}"
host = "{host}"
port = {port}
# allowed_ips = ["127.0.0.1/32", "::1/128", "203.0.113.10/32"]   # add the hub's address
# tls_cert_file = "cert.pem"    # a real certificate; unset: self-signed in data_dir
# tls_key_file = "key.pem"
# client_ca_file = "hub-ca.pem" # require client certificates (mTLS)
callback_handle = "{callback_handle}"
plugin = "{plugin}"
{mode_line}
[agent]
# In agent mode the host calls the hub for its work: no inbound port (listens on loopback).
{agent_lines}

[{plugin}]
{plugin_section}
"""

_PLUGIN_SECTIONS = {
    "nav": (
        'company = "CRONUS International Ltd."\n'
        'username = "TIMELOG"\n'
        "# the password or web service access key is the vault secret 'nav:password'\n"
        "invoice_line_type = 2  # 0 Text, 1 G/L Account, 2 Item, 3 Resource\n"
        "project_dimension = 2\n"
        "include_date_in_lines = false"
    ),
    "visma": (
        'system_path = "C:/ProgramData/SPCS/SPCS Administration/Gemensamma filer"\n'
        'company_path = "C:/ProgramData/SPCS/SPCS Administration/Företag/FTG1"\n'
        'adk = "dotnet"  # or "emulated"\n'
        "currency_factors = { SEK = 1, EUR = 1, USD = 1 }"
    ),
}


def _settings(path: Path) -> HostSettings:
    try:
        return load_settings(path)
    except FileNotFoundError as error:
        raise typer.BadParameter(str(error)) from None


@host_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for settings and data.")] = Path(),
    plugin: Annotated[str, typer.Option(help="nav or visma.")] = "nav",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTPS port.")] = 8743,
    customer: Annotated[str, typer.Option(help="Customer name, for alerts.")] = "",
    key_id: Annotated[str, typer.Option(help="Id of the first hub signing key.")] = "hub-1",
    hub_url: Annotated[
        str, typer.Option(help="Agent mode: the hub's https:// address this host calls.")
    ] = "",
    agent_id: Annotated[str, typer.Option(help="Agent mode: this host's id at the hub.")] = "",
    soap_url: Annotated[
        str, typer.Option(help="NAV: the SOAP services' base URL (NAV's port 7047 by default).")
    ] = "http://navserver:7047/DynamicsNAV100/WS",
    odata_url: Annotated[
        str, typer.Option(help="NAV: the OData V4 base URL (NAV's port 7048 by default).")
    ] = "http://navserver:7048/DynamicsNAV100/ODataV4",
) -> None:
    """Create a FinancialHost's settings, vault, keys and certificate.

    Creates the settings file, the vault, the first hub key, the callback secret and a
    self-signed certificate. Prints the secrets once: copy them into the hub and NAV.
    With --hub-url and --agent-id the host runs in agent mode (it calls the hub). NAV serves
    SOAP and OData on two ports: give both base URLs (--soap-url, --odata-url)."""
    if plugin not in _PLUGIN_SECTIONS:
        raise typer.BadParameter("choose --plugin nav or --plugin visma")
    if bool(hub_url) != bool(agent_id):
        raise typer.BadParameter("agent mode needs both --hub-url and --agent-id")
    plugin_section = _PLUGIN_SECTIONS[plugin]
    if plugin == "nav":
        urls = f"soap_url = {json.dumps(soap_url)}\nodata_url = {json.dumps(odata_url)}\n"
        plugin_section = urls + plugin_section
    settings_file = directory / SETTINGS_FILE
    if settings_file.exists():
        raise typer.BadParameter(f"{settings_file} exists already; edit it instead.")
    directory.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(
        _TEMPLATE.format(
            customer=customer,
            host=host,
            port=port,
            callback_handle=plugin,
            plugin=plugin,
            mode_line='mode = "agent"' if agent_id else '# mode = "agent"',
            agent_lines=(
                f'hub_url = "{hub_url}"\nagent_id = "{agent_id}"'
                if agent_id
                else '# hub_url = "https://hub.example.com"\n# agent_id = "customer-erp"'
            ),
            plugin_section=plugin_section,
        ),
        encoding="utf-8",
    )
    settings = load_settings(settings_file)
    vault = Vault(settings.data_dir)
    secret = vault.add_key(key_id)
    callback_secret = vault.new_secret(f"callback:{plugin}")
    certificate = certificate_for(settings)
    cert = x509.load_pem_x509_certificate(certificate.cert_file.read_bytes())
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    typer.echo(f"Settings:     {settings_file}")
    typer.echo(f"Certificate:  {certificate.cert_file} (SHA-256 {fingerprint})")
    typer.echo("For the hub's connection (shown once):")
    if agent_id:
        typer.echo(f"  agent id:   {agent_id} (the host calls {hub_url})")
    typer.echo(f"  key id:     {key_id}")
    typer.echo(f"  secret:     {secret}")
    typer.echo("For the ERP side's callback (NAV 'TimeLog Setup'; shown once):")
    typer.echo(f"  URL:        https://127.0.0.1:{port}/callback/v1/changes")
    typer.echo(f"  handle:     {plugin}")
    typer.echo(f"  secret:     {callback_secret}")
    if plugin == "nav":
        typer.echo(f"NAV:          SOAP {soap_url}, OData {odata_url} (edit [nav] to change)")
    typer.echo(
        f"Next: set the ERP password with 'ledgerlink host secret set {plugin}:password "
        f"--settings {settings_file}', then 'ledgerlink host serve'."
    )


@host_app.command("serve")
def serve(settings_file: SettingsOption = DEFAULT_SETTINGS) -> None:
    """Serve the signed operations until stopped (Ctrl-C).

    Over HTTPS; in agent mode the host fetches them from the hub instead."""
    settings = _settings(settings_file)
    where = f"https://{settings.host}:{settings.port}"
    if settings.mode == "agent":
        where = (
            f"agent '{settings.agent.agent_id}' of {settings.agent.hub_url} (callbacks on {where})"
        )
    typer.echo(f"FinancialHost ({settings.plugin}) {where}; data in {settings.data_dir}")
    serve_forever(settings)


@key_app.command("add")
def key_add(key_id: KeyIdArgument, settings_file: SettingsOption = DEFAULT_SETTINGS) -> None:
    """Add a hub signing key; older keys stay valid until retired. Prints the secret once."""
    secret = Vault(_settings(settings_file).data_dir).add_key(key_id)
    typer.echo(f"key id: {key_id}")
    typer.echo(f"secret: {secret}")


@key_app.command("retire")
def key_retire(
    key_id: KeyIdArgument,
    after_hours: Annotated[float, typer.Option(help="Overlap before it is refused.")] = 48.0,
    force: Annotated[bool, typer.Option(help="Retire even the last key.")] = False,
    settings_file: SettingsOption = DEFAULT_SETTINGS,
) -> None:
    """Accept a key only for the given overlap (default 48 h), then refuse it. Retiring the
    last key without an end locks the hub out: that needs --force."""
    if after_hours < 0:
        _fail(f"--after-hours must be 0 or more, not {after_hours:g}")
    vault = Vault(_settings(settings_file).data_dir)
    others = [k for k in vault.hub_keys() if k.key_id != key_id and k.not_after is None]
    if not others and not force and any(k.key_id == key_id for k in vault.hub_keys()):
        _fail(
            f"{key_id} is the last key without an end: after it the hub is refused. Add its "
            "successor first ('ledgerlink host key add'), or give --force."
        )
    until = datetime.now(UTC) + timedelta(hours=after_hours)
    vault.retire_key(key_id, until)
    typer.echo(f"{key_id} is accepted until {until.isoformat(timespec='seconds')}.")


@key_app.command("list")
def key_list(settings_file: SettingsOption = DEFAULT_SETTINGS, as_json: JsonOption = False) -> None:
    """The hub keys and until when each is accepted (never their secrets)."""
    keys = Vault(_settings(settings_file).data_dir).hub_keys()
    if as_json:
        _echo_json([key.to_json() for key in keys])
        return
    if not keys:
        typer.echo("No hub keys: add one with 'ledgerlink host key add <id>'.")
    for key in keys:
        until = key.not_after.isoformat(timespec="seconds") if key.not_after else "no end"
        typer.echo(f"{key.key_id}\tcreated {key.created:%Y-%m-%d %H:%M}\tvalid until {until}")


@secret_app.command("set")
def secret_set(
    name: Annotated[str, typer.Argument(help="The secret's name, e.g. nav:password.")],
    value: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="The secret (prompted if absent).")
    ],
    settings_file: SettingsOption = DEFAULT_SETTINGS,
) -> None:
    """Store a secret (e.g. ``nav:password``) in the encrypted vault."""
    Vault(_settings(settings_file).data_dir).set(name, value)
    typer.echo(f"Stored {name}.")


@audit_app.command("verify")
def audit_verify(settings_file: SettingsOption = DEFAULT_SETTINGS) -> None:
    """Recompute the audit log's hash chain, its MACs and its head; say what is wrong and
    exit 1 if anything was edited, forged, removed or emptied."""
    settings = _settings(settings_file)
    report = verify_files(
        settings.database_file, settings.data_dir / "audit.head", Vault(settings.data_dir)
    )
    for note in report.notes:
        typer.echo(f"Note: {note}.")
    if report.intact:
        typer.echo(f"Audit log intact: {report.records} records, head {report.head_hash[:16]}.")
        return
    typer.echo(f"Audit log NOT intact ({report.records} records):", err=True)
    for problem in report.problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    since: Annotated[int, typer.Option(help="Show records after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    settings_file: SettingsOption = DEFAULT_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """Print audit records."""
    settings = _settings(settings_file)
    if not settings.database_file.exists():
        _fail(f"there is no audit log: {settings.database_file} is missing")
    database = HostDatabase(settings.database_file)
    try:
        records = read_records(database, since=since, limit=limit)
        if as_json:
            _echo_json(records)
            return
        if not records:
            typer.echo("No audit records after that one.")
        for record in records:
            seq, at, event = record.pop("seq"), record.pop("at"), record.pop("event")
            details = " ".join(f"{k}={v}" for k, v in record.items())
            typer.echo(f"{seq:>6} {at[:19]} {event:<16} {details}")
    finally:
        database.close()


@host_app.command("jobs")
def jobs(
    pending: Annotated[bool, typer.Option(help="Only jobs still waiting.")] = False,
    retry_now: Annotated[bool, typer.Option(help="Make waiting jobs due now.")] = False,
    settings_file: SettingsOption = DEFAULT_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """The store-and-forward queue: accepted writes and their state."""
    settings = _settings(settings_file)
    database = HostDatabase(settings.database_file)
    try:
        queue = JobQueue(
            database, AuditLog(database, settings.data_dir / "audit.head"), settings.retry
        )
        if retry_now:
            due = queue.retry_now()
            if not as_json:
                typer.echo(f"{due} waiting job(s) are due now.")
        listed = queue.pending() if pending else queue.recent()
        if as_json:
            _echo_json([job.model_dump(mode="json") for job in listed])
            return
        if not listed:
            typer.echo("No jobs." if not pending else "No jobs waiting.")
        for job in listed:
            problem = job.error.message if job.error else job.last_problem
            typer.echo(
                f"{job.accepted_at:%Y-%m-%d %H:%M:%S} {job.state.value:<9} {job.attempts:>3} "
                f"{job.operation:<22} {job.idempotency_key} {problem}"
            )
    finally:
        database.close()


@alerts_app.command("test")
def alerts_test(settings_file: SettingsOption = DEFAULT_SETTINGS) -> None:
    """Send a test alert through each configured channel now; exit 1 if any fails."""
    settings = _settings(settings_file)
    results = send_test(
        settings.alerts, vault=Vault(settings.data_dir), customer_name=settings.customer_name
    )
    if not results:
        typer.echo(
            "No alert channel is configured: set [alerts] smtp_host and recipients, and/or "
            "webhook_url.",
            err=True,
        )
        raise typer.Exit(1)
    for result in results:
        typer.echo(f"{result.channel}: {'OK' if result.ok else 'FAILED: ' + result.problem}")
    if not all(result.ok for result in results):
        raise typer.Exit(1)
