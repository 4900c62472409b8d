"""Operator commands: ``python -m services.api.admin <command> ...``.

``create-account --friendly-name NAME`` prints the new account's SID and auth
token as JSON.  ``add-number --account-sid AC... --phone-number +1...`` gives an
account a number it may send from and prints its ``PN`` SID.
``rotate-master-key`` re-seals stored secrets under the active master key.
``verify-domain --domain-sid DN...`` vouches for a domain whose DNS Pigeon
cannot see: it is verified without a TXT record, and stays so.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
import orjson

from libs.common.crypto import KeyRing
from libs.common.errors import PigeonError
from libs.common.logs import configure_logging

from .accounts import create_account
from .rotation import rotate
from .senders import register_number
from .settings import ApiSettings
from .verification import attest_domain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.api.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    account = commands.add_parser("create-account", help="create an account")
    account.add_argument("--friendly-name", required=True)
    number = commands.add_parser("add-number", help="give an account a sender number")
    number.add_argument("--account-sid", required=True)
    number.add_argument("--phone-number", required=True)
    number.add_argument("--friendly-name", default=None)
    commands.add_parser(
        "rotate-master-key",
        help="re-seal stored secrets under the first key of PIGEON_MASTER_KEY",
    )
    domain = commands.add_parser(
        "verify-domain", help="verify a domain on the operator's word, without DNS"
    )
    domain.add_argument("--domain-sid", required=True)
    return parser


async def _run(args: argparse.Namespace, settings: ApiSettings) -> dict[str, object]:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        keyring = KeyRing.parse(settings.master_key.get_secret_value())
        if args.command == "rotate-master-key":
            resealed = await rotate(pool, keyring)
            return {"active_key_id": keyring.active_key_id, "resealed": resealed}
        if args.command == "verify-domain":
            row = await attest_domain(pool, args.domain_sid)
            return {
                "sid": row["sid"],
                "domain_name": row["domain_name"],
                "verified": row["verified_at"] is not None,
                "attested": row["attested"],
            }
        if args.command == "create-account":
            account = await create_account(pool, keyring, args.friendly_name)
            return {
                "account_sid": account.account_sid,
                "auth_token": account.auth_token,
                "friendly_name": account.friendly_name,
            }
        number = await register_number(
            pool, args.account_sid, args.phone_number, args.friendly_name
        )
        return {"sid": number.sid, "phone_number": number.phone_number}
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = ApiSettings()
    # Log events go to stderr; stdout carries the command's JSON alone.
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        result = asyncio.run(_run(args, settings))
    except (PigeonError, OSError, asyncpg.PostgresError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
