"""``sealbook key``: issue, inspect, change, rotate and revoke API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sealbook.cli.common import (
    HomeOpt,
    JsonOpt,
    context,
    emit,
    fail,
    fmt_ms,
    parse_duration_ms,
    read_secret_line,
)
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import CreatedKey, KeyService, KeySpec
from sealbook.exchange.context import Context
from sealbook.keys.format import elide
from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import describe, parse_permissions
from sealbook.keys.schemes import KeyType

app = typer.Typer(
    help="Issue and manage API keys. Secrets are read from stdin, never argv.", no_args_is_help=True
)

TotpOpt = Annotated[
    str, typer.Option("--totp", help="A current code from the user's authenticator")
]
PassphraseOpt = Annotated[
    bool,
    typer.Option(
        "--passphrase-stdin", help="Read the key's passphrase (8-32 letters/digits) from stdin"
    ),
]
PermOpt = Annotated[
    list[str] | None, typer.Option("--perm", help="read,spot_trade,futures_trade,transfer,withdraw")
]
IpOpt = Annotated[
    list[str] | None, typer.Option("--ip", help="Allowed IP or CIDR; repeat or comma-separate")
]


def _service(ctx: Context) -> KeyService:
    return KeyService(ctx, AccountService(ctx))


def _view(record: ApiKeyRecord, ctx: Context) -> dict[str, Any]:
    now = ctx.clock.now_ms()
    lapse_days = ctx.settings.unbound_key_lapse_days
    lapse = record.lapse_ms(lapse_days)
    return {
        "apiKey": record.api_key,
        "label": record.label,
        "type": record.key_type.value,
        "permissions": describe(record.permissions),
        "effectivePermissions": describe(record.effective_permissions(now, lapse_days)),
        "ips": list(record.ips),
        "status": record.status(now, lapse_days).value,
        "why": record.why(now, lapse_days),
        "createdTime": record.created_ms,
        "expiresTime": record.expires_ms,
        "rightsLapseTime": lapse,
        "windowMs": record.window_ms,
        "rotatedTo": record.rotated_to,
        "diesTime": record.dies_ms,
        "revokedTime": record.revoked_ms,
        "lastUsedTime": record.last_used_ms,
        "lastUsedIp": record.last_used_ip,
    }


def _created(created: CreatedKey, ctx: Context) -> dict[str, Any]:
    view = _view(created.record, ctx)
    if created.secret is not None:
        view = {"apiKey": view["apiKey"], "secretKey": created.secret, **view}
    return view


def _render_created(data: dict[str, Any]) -> str:
    lines = [f"API key:     {data['apiKey']}"]
    if "secretKey" in data:
        lines.append(f"Secret key:  {data['secretKey']}")
        lines.append("Store the secret now: it is shown once and cannot be recovered.")
    lines.append(f"Permissions: {', '.join(data['permissions'])}")
    lines.append(
        f"IPs:         {', '.join(data['ips']) or 'any (trade rights lapse without an allowlist)'}"
    )
    return "\n".join(lines)


def _render_show(data: dict[str, Any]) -> str:
    rows = [
        ("key", data["apiKey"]),
        ("label", data["label"]),
        ("type", data["type"]),
        ("status", data["status"] + (f" — {data['why']}" if data["why"] else "")),
        ("permissions", ", ".join(data["permissions"])),
        ("effective", ", ".join(data["effectivePermissions"])),
        ("ips", ", ".join(data["ips"]) or "any"),
        ("created", fmt_ms(data["createdTime"])),
        ("expires", fmt_ms(data["expiresTime"])),
        ("rights lapse", fmt_ms(data["rightsLapseTime"])),
        ("last used", f"{fmt_ms(data['lastUsedTime'])} from {data['lastUsedIp'] or '-'}"),
    ]
    if data["rotatedTo"]:
        rows.append(
            ("rotated to", f"{data['rotatedTo']} (old key dies {fmt_ms(data['diesTime'])})")
        )
    return "\n".join(f"{name:<13}{value}" for name, value in rows)


def _render_list(data: list[dict[str, Any]]) -> str:
    if not data:
        return "no keys"
    columns = ("KEY", "LABEL", "TYPE", "STATUS", "PERMISSIONS", "IPS", "LAST USED")
    widths = (20, 16, 8, 9, 30, 18, 0)
    rows = [columns]
    for d in data:
        perms = ",".join(d["effectivePermissions"])
        ips = ",".join(d["ips"]) or "any"
        last = fmt_ms(d["lastUsedTime"])
        rows.append((elide(d["apiKey"]), d["label"], d["type"], d["status"], perms, ips, last))
    lines = []
    for row in rows:
        cells = [str(c)[:w].ljust(w) if w else str(c) for c, w in zip(row, widths, strict=True)]
        lines.append(" ".join(cells))
    return "\n".join(lines)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="Owner of the key")],
    totp: TotpOpt,
    name: Annotated[str, typer.Option("--name", help="A label for the key")] = "default",
    key_type: Annotated[
        KeyType, typer.Option("--type", help="hmac, rsa or ed25519")
    ] = KeyType.HMAC,
    public_key_file: Annotated[
        Path | None,
        typer.Option(
            "--public-key-file",
            help="PEM of an RSA/Ed25519 public key",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    perm: PermOpt = None,
    ip: IpOpt = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Lifetime, e.g. 30d")] = None,
    window: Annotated[
        int | None, typer.Option("--window-ms", help="Stricter timestamp window (5000-30000)")
    ] = None,
    passphrase_stdin: PassphraseOpt = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key. Prints the HMAC secret once."""
    public_key = public_key_file.read_text() if public_key_file else None
    if key_type is not KeyType.HMAC and public_key is None:
        fail(f"a {key_type} key needs --public-key-file")
    passphrase = read_secret_line("passphrase", prompt=not passphrase_stdin)
    expires_in_ms = parse_duration_ms(expires) if expires else None
    with context(home) as ctx:
        spec = KeySpec(
            label=name,
            key_type=key_type,
            permissions=parse_permissions(perm or []),  # may raise: reported like any error
            ips=tuple(ip or ()),
            public_key=public_key,
            expires_in_ms=expires_in_ms,
            window_ms=window,
        )
        created = _service(ctx).create(user, spec, passphrase, totp)
        data = _created(created, ctx)
    emit(data, as_json, _render_created)


@app.command("list")
def list_keys(
    user: Annotated[str, typer.Option("--user")], home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    """List a user's keys (secrets are never shown)."""
    with context(home) as ctx:
        data = [_view(r, ctx) for r in _service(ctx).list(user)]
    emit(data, as_json, _render_list)


@app.command("show")
def show(api_key: str, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Show one key, including why it lapsed or died."""
    with context(home) as ctx:
        data = _view(_service(ctx).show(api_key), ctx)
    emit(data, as_json, _render_show)


@app.command("update")
def update(
    api_key: str,
    totp: TotpOpt,
    perm: PermOpt = None,
    ip: IpOpt = None,
    clear_ips: Annotated[bool, typer.Option("--clear-ips", help="Remove the IP allowlist")] = False,
    name: Annotated[str | None, typer.Option("--name")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a key's permissions, IP allowlist or label (needs a TOTP code)."""
    if clear_ips and ip:
        fail("use either --ip or --clear-ips")
    with context(home) as ctx:
        record = _service(ctx).update(
            api_key,
            totp,
            permissions=parse_permissions(perm) if perm else None,
            ips=() if clear_ips else (tuple(ip) if ip else None),
            label=name,
        )
        data = _view(record, ctx)
    emit(data, as_json, _render_show)


@app.command("rotate")
def rotate(
    api_key: str,
    totp: TotpOpt,
    public_key_file: Annotated[
        Path | None,
        typer.Option("--public-key-file", exists=True, dir_okay=False, readable=True),
    ] = None,
    passphrase_stdin: PassphraseOpt = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a replacement key; the old one keeps working for the grace period."""
    passphrase = read_secret_line("passphrase for the new key", prompt=not passphrase_stdin)
    public_key = public_key_file.read_text() if public_key_file else None
    with context(home) as ctx:
        created = _service(ctx).rotate(api_key, passphrase, totp, public_key=public_key)
        data = _created(created, ctx)
    emit(data, as_json, _render_created)


@app.command("revoke")
def revoke(
    api_key: str,
    reason: Annotated[str, typer.Option("--reason")] = "revoked by the operator",
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key now (an operator action; running servers refuse it on the next request)."""
    with context(home) as ctx:
        data = _view(_service(ctx).revoke(api_key, reason), ctx)
    emit(data, as_json, lambda d: f"revoked {d['apiKey']}")
