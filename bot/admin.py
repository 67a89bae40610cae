"""Staff accounts from the command line, with bot/'s settings (DATABASE_URL): `make admin` or

  python -m bot.admin                          the first admin ("admin"), with a one-time password
  python -m bot.admin create NAME --role sales --display-name 王芳   any account (one-time password)
  python -m bot.admin reset-password NAME      a new one-time password; the account's sessions end
  python -m bot.admin list

A one-time password is printed once and must be replaced at the first login. After the first admin,
accounts are usually made in the console (账号管理), where the audit log records who made them.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from bot import accounts, audit
from bot.accounts import ADMIN, ROLE_LABELS, AccountError
from bot.db import open_database
from bot.models import StaffAccount


class _Console:
    """The actor of the audit entries written from the command line."""

    account_id = None
    username = "命令行 python -m bot.admin"
    ip = None


def _print_password(account: StaffAccount, password: str) -> None:
    print(f"账号 {account.username}（{account.display_name}，{ROLE_LABELS[account.role]}）")
    print(f"一次性密码：{password}")
    print("首次登录 /staff 后需要修改密码。这个密码只显示这一次。")


def main(argv: list[str] | None = None) -> int:
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m bot.admin", description="员工后台账号")
    commands = parser.add_subparsers(dest="command")
    create = commands.add_parser("create", help="创建账号（打印一次性密码）")
    create.add_argument("username")
    create.add_argument("--role", choices=list(ROLE_LABELS)[:3], required=True)
    create.add_argument("--display-name", required=True)
    reset = commands.add_parser("reset-password", help="重置密码（打印新的一次性密码）")
    reset.add_argument("username")
    commands.add_parser("list", help="列出账号")
    args = parser.parse_args(argv)

    db = open_database(get_settings().database_url)
    try:
        with db.transaction() as session:
            if args.command is None:
                admins = session.scalars(select(StaffAccount).where(StaffAccount.role == ADMIN)).all()
                if admins:
                    print(
                        f"已有管理员账号：{'、'.join(a.username for a in admins)}。忘记密码时请运行 "
                        "python -m bot.admin reset-password <用户名>。"
                    )
                    return 0
                account, password = accounts.create_account(session, "admin", "管理员", ADMIN)
                audit.record(session, _Console(), "account_created", "account", account.username, "第一个管理员")
                _print_password(account, password)
            elif args.command == "create":
                account, password = accounts.create_account(session, args.username, args.display_name, args.role)
                audit.record(
                    session,
                    _Console(),
                    "account_created",
                    "account",
                    account.username,
                    f"{account.display_name}，{ROLE_LABELS[account.role]}",
                )
                _print_password(account, password)
            elif args.command == "reset-password":
                account = accounts.find(session, args.username)
                if account is None:
                    print(f"没有账号 {args.username}。", file=sys.stderr)
                    return 1
                password = accounts.reset_password(session, account)
                audit.record(session, _Console(), "password_reset", "account", account.username)
                _print_password(account, password)
            else:
                for a in session.scalars(select(StaffAccount).order_by(StaffAccount.username)):
                    state = "在用" if a.active else "已停用"
                    print(f"{a.username}\t{a.display_name}\t{ROLE_LABELS[a.role]}\t{state}")
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
