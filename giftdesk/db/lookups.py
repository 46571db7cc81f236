"""Row lookups shared by the services: one wording for "there is no such …"."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from giftdesk.db.models import Customer, TikTokAccount
from giftdesk.core.errors import NotFoundError


def customer_or_error(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    return customer


def account_or_error(session: Session, account_id: int, with_credential: bool = False) -> TikTokAccount:
    query = select(TikTokAccount).where(TikTokAccount.id == account_id)
    if with_credential:
        query = query.options(selectinload(TikTokAccount.credential))
    account = session.scalar(query)
    if account is None:
        raise NotFoundError(f"There is no TikTok account with id {account_id}.")
    return account
