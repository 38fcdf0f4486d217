"""`planactor serve`: the review console in the browser (docs/console.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from planactor._home import default_journal
from planactor.cli._app import app, err, out
from planactor.cli._approve import PolicyOption
from planactor.cli._lab_context import LabOption


@app.command("serve")
def serve_cmd(
    plans: Path = typer.Option(Path("."), "--plans", help="The folder of plan files to review."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port (0: any free one)."),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="PLANACTOR_CONSOLE_TOKEN",
        help="The access token (default: a new random one, printed in the URL).",
    ),
    db: Path | None = typer.Option(
        None, "--db", help="Journal file (default: $PLANACTOR_HOME/journal.db)."
    ),
    policy_file: Path | None = PolicyOption,
    lab: Path | None = LabOption,
) -> None:
    """Serve the review console: plans to approve or reject, runs to start, watch and audit."""
    # Imported here: the web stack loads only for this command (start-up of the others).
    from planactor.console import ConsoleSettings, Server, create_app, is_loopback, new_token

    settings = ConsoleSettings(
        plans=plans.resolve(),
        token=token or new_token(),
        journal=(db or default_journal()).resolve(),
        policy_file=policy_file,
        lab=lab.resolve() if lab is not None else None,
    )
    try:
        server = Server(create_app(settings), host=host, port=port)
    except OSError as e:
        from planactor._errors import InputError

        raise InputError(
            f"cannot listen on {host}:{port}: {e.strerror or e}",
            hint="pick another --port (0 takes any free one)",
        ) from None
    if not is_loopback(host):
        err.print(
            f"warning: listening on {host}, beyond this machine; the token travels in clear "
            "over plain HTTP: put the console behind TLS, or keep the default 127.0.0.1",
            markup=False,
        )
    out.print(f"planactor console: plans in {settings.plans}", markup=False)
    out.print(f"  journal {settings.journal}", markup=False)
    out.print(f"  open {server.url(settings.token)}", markup=False)
    out.print("  (Ctrl-C stops it; runs it started go on in their own processes)", markup=False)
    server.serve()
