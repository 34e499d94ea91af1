"""``ledgerlink emulate <erp>``: serve an ERP emulator until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from ledgerlink.emulators.economic import EconomicEmulator

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
