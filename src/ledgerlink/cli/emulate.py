"""``ledgerlink emulate <erp>``: serve an ERP emulator until Ctrl-C (Visma: make a company)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer
import uvicorn

from ledgerlink.emulators._kit.serve import serve_forever
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.emulators.nav import NavConfig, NavEmulator, UserDef
from ledgerlink.emulators.visma import create_company, is_company

emulate_app = typer.Typer(
    no_args_is_help=True, help="Serve a faithful local stand-in of an ERP API."
)


@emulate_app.command("economic")
def economic(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8010,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="JSON file keeping the agreement between runs.")
    ] = None,
    app_secret_token: Annotated[
        str, typer.Option(help="The X-AppSecretToken to accept.")
    ] = "app-secret",
    agreement_grant_token: Annotated[
        str, typer.Option(help="The X-AgreementGrantToken to accept.")
    ] = "grant-token",
) -> None:
    """Serve the e-conomic REST API emulator."""
    emulator = EconomicEmulator(
        app_secret_token=app_secret_token,
        agreement_grant_token=agreement_grant_token,
        state_file=state,
    )
    typer.echo(f"e-conomic emulator on http://{host}:{port}")
    typer.echo(f"  X-AppSecretToken:      {app_secret_token}")
    typer.echo(f"  X-AgreementGrantToken: {agreement_grant_token}")
    typer.echo(f"  agreement number:      {emulator.state.main.number}")
    typer.echo(f"  state file:            {state or '(in memory)'}")
    typer.echo("Press Ctrl-C to stop.")
    uvicorn.run(emulator.app, host=host, port=port, log_level="warning")


@emulate_app.command("exact")
def exact(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8030,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="JSON file keeping the divisions and tokens.")
    ] = None,
    client_id: Annotated[str, typer.Option(help="The registered app's client id.")] = (
        "exact-client"
    ),
    client_secret: Annotated[str, typer.Option(help="The app's client secret.")] = "exact-secret",
) -> None:
    """Serve the Exact Online REST API emulator (OAuth2, OData v2, divisions)."""
    emulator = ExactEmulator(client_id=client_id, client_secret=client_secret, state_file=state)
    url = f"http://{host}:{port}"
    typer.echo(f"Exact Online emulator on {url}")
    typer.echo(f"  authorize:     {url}/api/oauth2/auth")
    typer.echo(f"  token:         {url}/api/oauth2/token")
    typer.echo(f"  client id:     {client_id}")
    typer.echo(f"  client secret: {client_secret}")
    typer.echo(f"  division:      {emulator.state.current} (GET {url}/api/v1/current/Me)")
    typer.echo(f"  state file:    {state or '(in memory)'}")
    typer.echo("Press Ctrl-C to stop.")
    uvicorn.run(emulator.app, host=host, port=port, log_level="warning")


@emulate_app.command("fortnox")
def fortnox(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8020,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="JSON file keeping the company and tokens between runs.")
    ] = None,
    client_id: Annotated[str, typer.Option(help="The OAuth client id to accept.")] = "ledgerlink",
    client_secret: Annotated[
        str, typer.Option(help="The OAuth client secret to accept.")
    ] = "fortnox-secret",
) -> None:
    """Serve the Fortnox API emulator (/3/...) and its OAuth server (/oauth-v1/...)."""
    emulator = FortnoxEmulator(client_id=client_id, client_secret=client_secret, state_file=state)
    base = f"http://{host}:{port}"
    typer.echo(f"Fortnox emulator on {base}")
    typer.echo(f"  API:           {base}/3/")
    typer.echo(f"  authorize:     {base}/oauth-v1/auth")
    typer.echo(f"  token:         {base}/oauth-v1/token (HTTP Basic client authentication)")
    typer.echo(f"  client id:     {client_id}")
    typer.echo(f"  client secret: {client_secret}")
    typer.echo(f"  company:       {emulator.state.company.information['CompanyName']}")
    typer.echo(f"  state file:    {state or '(in memory)'}")
    typer.echo("Press Ctrl-C to stop.")
    serve_forever({"api": emulator.app}, host=host, ports={"api": port})


def _verify_setting(value: str) -> bool | Path:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    path = Path(value)
    if not path.is_file():
        raise typer.BadParameter(f"{value} is neither true/false nor a CA certificate file")
    return path


@emulate_app.command("nav")
def nav(
    soap_port: Annotated[int, typer.Option(help="TCP port of the SOAP services.")] = 7047,
    odata_port: Annotated[int, typer.Option(help="TCP port of the OData V4 services.")] = 7048,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="JSON file keeping every company between runs.")
    ] = None,
    user: Annotated[str, typer.Option(help="The NAV user (NavUserPassword).")] = "WEBSERVICE",
    password: Annotated[str, typer.Option(help="The user's password.")] = "Passw0rd!",
    access_key: Annotated[
        str | None, typer.Option(help="A 44-character web service access key for the user.")
    ] = None,
    company: Annotated[
        list[str] | None, typer.Option(help="A company name (repeat for several).")
    ] = None,
    instance: Annotated[str, typer.Option(help="The server instance.")] = "DynamicsNAV100",
    callback_verify: Annotated[
        str,
        typer.Option(help="TLS check of the FinancialHost callback: true, false or a CA file."),
    ] = "true",
    job_queue_interval: Annotated[
        float | None,
        typer.Option(help="Run the change handler every N seconds (06-23 h); off if omitted."),
    ] = None,
) -> None:
    """Serve the Dynamics NAV web services emulator: SOAP and OData V4, each on its own port
    as NAV serves them."""
    settings: dict[str, object] = {
        "server_instance": instance,
        "users": (UserDef(name=user, password=password, access_key=access_key),),
        "callback_verify": _verify_setting(callback_verify),
        "job_queue_interval_seconds": job_queue_interval,
    }
    if company:
        settings["companies"] = tuple(company)
    emulator = NavEmulator(config=NavConfig.model_validate(settings), state_file=state)
    ports = {"soap": soap_port, "odata": odata_port}
    urls = emulator.base_urls({name: f"http://{host}:{port}" for name, port in ports.items()})
    first = emulator.config.companies[0]
    typer.echo(f"Dynamics NAV emulator on {host}, ports {soap_port} (SOAP), {odata_port} (OData)")
    typer.echo(f"  SOAP:       {urls['soap']}/{quote(first, safe='')}/Page/<ServiceName>")
    typer.echo(f"  OData V4:   {urls['odata']}/Company('{quote(first, safe='')}')/<ServiceName>")
    typer.echo(f"  companies:  {', '.join(emulator.config.companies)}")
    typer.echo(f"  user:       {user}")
    typer.echo(f"  password:   {password}")
    if access_key:
        typer.echo(f"  access key: {access_key}")
    typer.echo(f"  admin:      {urls['admin']}")
    typer.echo(f"  state file: {state or '(in memory)'}")
    typer.echo("Press Ctrl-C to stop.")
    try:
        serve_forever(emulator.apps, host=host, ports=ports)
    finally:
        emulator.close()


@emulate_app.command("visma")
def visma(
    folder: Annotated[
        Path, typer.Option(help="Where to put 'Gemensamma filer' and the company folder.")
    ] = Path("visma"),
    company: Annotated[str, typer.Option(help="The company folder's name.")] = "FTG1",
    name: Annotated[str, typer.Option(help="The company's name.")] = "Demo AB",
    demo_customers: Annotated[
        bool, typer.Option(help="Also seed demo customers, projects and supplier invoices.")
    ] = True,
) -> None:
    """Create an emulated Visma Administration company for 'ledgerlink host serve'.

    Visma is reached through its ADK inside the host process, so there is nothing to serve:
    the host opens the company with the emulated ADK (adk = "emulated").
    """
    system_path, company_path = folder / "Gemensamma filer", folder / company
    if is_company(company_path):
        typer.echo(f"The company {company_path} exists already; it is left as it is.")
    else:
        create_company(system_path, company_path, name=name, parties=demo_customers)
        typer.echo(f"Emulated Visma Administration company {name!r} in {company_path}")
    typer.echo("FinancialHost settings (financialhost.toml):")
    typer.echo('  plugin = "visma"')
    typer.echo("  [visma]")
    typer.echo(f"  system_path = {json.dumps(str(system_path.resolve()))}")
    typer.echo(f"  company_path = {json.dumps(str(company_path.resolve()))}")
    typer.echo('  adk = "emulated"')
