"""The withdrawal address book: a key may withdraw only to addresses booked with a TOTP code."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from sealbook.errors import Conflict, NotFound, ParamInvalid, StepUpError
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.context import Context
from sealbook.markets import Catalog
from sealbook.store import users as user_store
from sealbook.store.tables import withdraw_addresses

__all__ = ["AddressService", "BookedAddress"]

MAX_ADDRESS = 128


@dataclass(frozen=True, slots=True)
class BookedAddress:
    id: int
    user_id: int
    coin: str
    chain: str
    address: str
    tag: str
    label: str
    created_ms: int


class AddressService:
    def __init__(self, ctx: Context, accounts: AccountService, catalog: Catalog) -> None:
        self._ctx = ctx
        self._accounts = accounts
        self._catalog = catalog

    def add(
        self,
        user_name: str,
        coin: str,
        chain: str,
        address: str,
        totp_code: str,
        *,
        tag: str = "",
        label: str = "",
        ip: str | None = None,
    ) -> BookedAddress:
        coin = coin.upper()
        chain_info = self._catalog.coin(coin).chain(chain)
        address = address.strip()
        if not address or len(address) > MAX_ADDRESS or not address.isprintable() or " " in address:
            raise ParamInvalid("address", f"1-{MAX_ADDRESS} printable characters without spaces")
        if chain_info.need_tag and not tag:
            raise ParamInvalid("tag", f"{coin} on {chain} needs a tag (memo)")
        now = self._ctx.clock.now_ms()
        error: StepUpError | None = None
        booked: BookedAddress | None = None
        try:
            with self._ctx.engine.begin() as conn:
                user = user_store.get_by_name(conn, user_name, for_update=True)
                if user is None:
                    raise NotFound(f"user {user_name!r}")
                error = self._accounts.step_up(conn, user, totp_code, ip)
                if error is None:
                    values = {
                        "user_id": user.id,
                        "coin": coin,
                        "chain": chain_info.chain,
                        "address": address,
                        "tag": tag,
                        "label": label[:64],
                        "created_ms": now,
                    }
                    new_id = conn.execute(
                        insert(withdraw_addresses)
                        .values(**values)
                        .returning(withdraw_addresses.c.id)
                    ).scalar_one()
                    booked = BookedAddress(id=int(new_id), **values)  # type: ignore[arg-type]
                    self._ctx.audit.append(
                        conn,
                        now,
                        "address.added",
                        user_id=user.id,
                        ip=ip,
                        detail={
                            "coin": coin,
                            "chain": chain_info.chain,
                            "address": address,
                            "tag": tag,
                        },
                    )
        except IntegrityError:
            raise Conflict("this withdrawal address") from None
        if error is not None:
            raise error
        assert booked is not None
        return booked

    def list(self, user_name: str) -> list[BookedAddress]:
        with self._ctx.engine.connect() as conn:
            user = user_store.get_by_name(conn, user_name)
            if user is None:
                raise NotFound(f"user {user_name!r}")
            rows = conn.execute(
                select(withdraw_addresses)
                .where(withdraw_addresses.c.user_id == user.id)
                .order_by(withdraw_addresses.c.id)
            )
            return [BookedAddress(**row._mapping) for row in rows]

    def remove(self, user_name: str, address_id: int, *, ip: str | None = None) -> None:
        """Removing an address needs no code: it can only take rights away."""
        now = self._ctx.clock.now_ms()
        with self._ctx.engine.begin() as conn:
            user = user_store.get_by_name(conn, user_name)
            if user is None:
                raise NotFound(f"user {user_name!r}")
            gone = conn.execute(
                delete(withdraw_addresses).where(
                    and_(
                        withdraw_addresses.c.id == address_id,
                        withdraw_addresses.c.user_id == user.id,
                    )
                )
            ).rowcount
            if not gone:
                raise NotFound(f"address {address_id}")
            self._ctx.audit.append(
                conn, now, "address.removed", user_id=user.id, ip=ip, detail={"id": address_id}
            )

    def is_booked(self, user_id: int, coin: str, chain: str, address: str, tag: str) -> bool:
        with self._ctx.engine.connect() as conn:
            row = conn.execute(
                select(withdraw_addresses.c.id).where(
                    withdraw_addresses.c.user_id == user_id,
                    withdraw_addresses.c.coin == coin.upper(),
                    withdraw_addresses.c.chain == chain,
                    withdraw_addresses.c.address == address,
                    withdraw_addresses.c.tag == tag,
                )
            ).first()
        return row is not None
