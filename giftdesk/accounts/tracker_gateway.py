"""The endpoint's view of the domain: authenticate trackers, serve and save their documents.

Built for the request path: keys are checked against an in-memory table of SHA-256 digests
(constant-time compare; the endpoint checks every route's key here, the tracker headers with
``authenticate`` and a Bearer key with ``account_for_key``), reads are served from pre-encoded
response bodies, and last-access times are coalesced in memory and flushed once a second. The table and the cache follow
changes made in this process at once (events) and changes made by another process (the CLI,
a second console) within ``poll_interval`` seconds: a credential change elsewhere (or a restore)
shows as a new ``CredentialsGeneration`` token, and then both are loaded afresh; a document
saved elsewhere shows by its ``updated_at``.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError

from giftdesk.db import Database
from giftdesk.db.models import TRACKER_DATA_TYPES, AccountLegacyId, TrackerCredential, TrackerData
from giftdesk.db.types import UTCDateTime
from giftdesk.core.errors import AuthenticationError, NotFoundError, ValidationError
from giftdesk.accounts import events as ev
from giftdesk.core.events import DatabaseReplaced, EventBus
from giftdesk.db.credentials import credentials_generation, digest_key
from giftdesk.accounts.tracker_data import SAVE_MESSAGES, apply_write, find_document, load_document, write_document

log = logging.getLogger(__name__)
_DUMMY_DIGEST = "0" * 64
_POLL_MARGIN = timedelta(seconds=5)  # catches commits whose timestamps predate the previous poll


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class TrackerGateway:
    def __init__(self, db: Database, events: EventBus, *, flush_interval: float = 1.0, poll_interval: float = 0.5):
        self.db = db
        self.events = events
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self._keys: dict[int, tuple[str, bool]] = {}  # account id -> (key digest, active)
        self._accounts: dict[str, int] = {}  # key digest -> account id (for keys sent without the account)
        # An imported account's old id (24 hex) -> its id: trackers started elsewhere call with it.
        self._legacy: dict[str, int] = {}
        self._cache: dict[tuple[int, str], tuple[bytes, datetime | None]] = {}
        self._accessed: dict[int, float] = {}
        self._generations: dict[tuple[int, str], int] = {}  # bumped by every save, see read_body
        self._reloads = 0  # bumped by every reload of everything, see read_body
        self._credentials_generation: str | None = None  # the token the table was loaded with
        self._write_lock = threading.Lock()
        # Held through a whole flush: a flush that finds nothing pending because housekeeping has
        # just taken it returns only once that write has committed.
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list = []
        self._last_poll = datetime.now(timezone.utc)
        self.reload_everything()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._unsubscribe = [
            self.events.subscribe(ev.KeyChanged, self._on_key_changed),
            self.events.subscribe(ev.AccountChanged, self._on_account_changed),
            self.events.subscribe(ev.CustomerChanged, self._on_customer_changed),
            self.events.subscribe(DatabaseReplaced, lambda _event: self._on_database_replaced()),
            self.events.subscribe(ev.TrackerDataSaved, self._on_data_saved),
        ]
        self.reload_keys()  # keys may have changed between construction and subscribing
        self._stop.clear()
        self._thread = threading.Thread(target=self._housekeeping, name="gateway-housekeeping", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops housekeeping and writes the pending last-access times."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush_access_times()

    # ---- request path ----------------------------------------------------------------------
    def authenticate(self, path_account: str, header_account: str | None, api_key: str | None) -> int:
        """Returns the account id, or raises AuthenticationError with the reason for the 401."""
        if not api_key or not header_account:
            raise AuthenticationError("API key and account ID are required (X-API-Key and X-Account-ID headers).")
        if header_account != path_account:
            raise AuthenticationError("X-Account-ID does not match the account in the URL.")
        plain_number = header_account.isascii() and header_account.isdigit() and len(header_account) < 19
        if plain_number:
            account_id = int(header_account)
        else:  # an imported account's old id names it as well; the key check below is the same
            account_id = self._legacy.get(header_account.lower(), -1) if len(header_account) == 24 else -1
        digest, active = self._keys.get(account_id, (_DUMMY_DIGEST, False))
        # Always one compare of equal-length digests: timing says nothing about the stored key.
        matches = hmac.compare_digest(digest_key(api_key), digest)
        if not matches or digest is _DUMMY_DIGEST:
            raise AuthenticationError("Invalid API key or account ID.")
        if not active:
            raise AuthenticationError("This API key has been deactivated.")
        self._accessed[account_id] = time.time()
        return account_id

    def account_for_key(self, api_key: str) -> int | None:
        """The account whose active key ``api_key`` is, or None.

        The digest of the key finds the account, and the stored digest is then compared in
        constant time; the lookup's timing can only reveal something about a digest, which says
        nothing usable about a key."""
        digest = digest_key(api_key)
        account_id = self._accounts.get(digest)
        stored, active = self._keys.get(account_id, (_DUMMY_DIGEST, False))
        if not hmac.compare_digest(stored, digest) or stored is _DUMMY_DIGEST or not active:
            return None
        return account_id  # not a tracker's access: the last-access time stays the tracker's

    def read_body(self, account_id: int, data_type: str) -> bytes:
        """The whole response body for a GET: ``{"success": true, "data": ...}``."""
        key = (account_id, data_type)
        cached = self._cache.get(key)
        if cached is not None:
            return cached[0]
        generation, reloads = self._generations.get(key, 0), self._reloads
        with self.db.read_session() as session:
            data, stamp = load_document(session, account_id, data_type)
        body = _encode({"success": True, "data": data if data is not None else {}})
        # A save that committed while we read would be undone by caching what we read, and a
        # restore noticed meanwhile would come back through it.
        if self._generations.get(key, 0) == generation and self._reloads == reloads:
            self._cache[key] = (body, stamp)
        return body

    def save(self, account_id: int, data_type: str, body: Any) -> bytes:
        """Validates and commits one tracker POST; returns the response body once it is durable."""
        (result,) = self.save_group([(account_id, data_type, body)])
        if isinstance(result, BaseException):
            raise result
        return result

    def save_group(self, writes: list[tuple[int, str, Any]]) -> list[bytes | Exception]:
        """Commits several tracker POSTs as one transaction (group commit: one fsync for all).

        Returns, per write in order, the response body (committed and durable) or the exception
        that refused it. A write that breaks a rule (ValidationError) is left out of the
        transaction without harming the others; a database error rolls the group back, and then
        every write is redone in a transaction of its own, so only the one that caused it fails.
        """
        with self._write_lock:
            results, saved = self._save_group(writes)
        for account_id, data_type, _data, _stamp in saved:
            self.events.publish(ev.TrackerDataSaved(account_id, data_type, "tracker"))
        return results

    def _save_group(self, writes: list[tuple[int, str, Any]]) -> tuple[list, list]:
        for account_id, data_type, _ in writes:
            key = (account_id, data_type)
            self._generations[key] = self._generations.get(key, 0) + 1
        if len(writes) > 1:
            try:
                return self._committed(*self._commit(writes))
            except Exception:
                log.info("Tracker gateway: a group of %d writes failed; retrying them one by one", len(writes))
        results, saved = [], []
        for write in writes:
            try:
                one_result, one_saved = self._commit([write])
            except IntegrityError:
                one_result, one_saved = [NotFoundError("This account no longer exists.")], []
            except Exception as exc:
                one_result, one_saved = [exc], []
            results += one_result
            saved += one_saved
        return self._committed(results, saved)

    def _commit(self, writes: list[tuple[int, str, Any]]) -> tuple[list, list]:
        """One transaction for ``writes``; raises (nothing committed) on a database error."""
        results: list[bytes | Exception] = []
        saved: list[tuple[int, str, dict, Any]] = []
        # A Core connection, not an ORM session: half the CPU per save on the hot write path.
        with self.db.engine.begin() as connection:
            for account_id, data_type, body in writes:
                row_id, current = find_document(connection, account_id, data_type)
                try:
                    data = apply_write(current, data_type, body)
                except (ValidationError, RecursionError) as exc:
                    results.append(exc)
                    continue
                stamp = write_document(connection, account_id, data_type, data, row_id)
                results.append(_encode({"success": True, "message": SAVE_MESSAGES[data_type]}))
                saved.append((account_id, data_type, data, stamp))
        return results, saved

    def _committed(self, results: list, saved: list) -> tuple[list, list]:
        for account_id, data_type, data, stamp in saved:
            self._cache[(account_id, data_type)] = (_encode({"success": True, "data": data}), stamp)
        return results, saved

    # ---- keeping the table and the cache true ------------------------------------------------
    def reload_keys(self) -> None:
        with self.db.read_session() as session:
            rows = session.execute(
                select(TrackerCredential.account_id, TrackerCredential.api_key_sha256, TrackerCredential.status)
            ).all()
            legacy = session.execute(
                select(AccountLegacyId.legacy_id, AccountLegacyId.account_id)
            ).all()
        keys = {account_id: (digest, status == "active") for account_id, digest, status in rows}
        self._accounts = {digest: account_id for account_id, (digest, _active) in keys.items()}
        self._legacy = {old_id: account_id for old_id, account_id in legacy}
        self._keys = keys

    def reload_everything(self, generation: str | None = None) -> None:
        """Drops every cached document and loads the key table afresh, remembering the credentials
        token it reflects (``generation`` when the caller has just read it)."""
        if generation is None:
            with self.db.read_session() as session:
                generation = credentials_generation(session)
        # The token is read before the keys: a change in between shows as a new token next poll.
        self._reloads += 1
        self._cache.clear()
        self.reload_keys()
        self._credentials_generation = generation

    def _reload_key(self, account_id: int) -> None:
        with self.db.read_session() as session:
            row = session.execute(
                select(TrackerCredential.api_key_sha256, TrackerCredential.status)
                .where(TrackerCredential.account_id == account_id)
            ).first()
            legacy_id = session.scalar(select(AccountLegacyId.legacy_id).where(AccountLegacyId.account_id == account_id))
        self._legacy = {k: v for k, v in self._legacy.items() if v != account_id}
        if legacy_id:
            self._legacy[legacy_id] = account_id
        old = self._keys.get(account_id)
        if old is not None and (row is None or old[0] != row[0]):
            self._accounts.pop(old[0], None)
        if row is None:
            self._keys.pop(account_id, None)
        else:
            self._keys[account_id] = (row[0], row[1] == "active")
            self._accounts[row[0]] = account_id

    def _forget_account(self, account_id: int) -> None:
        old = self._keys.pop(account_id, None)
        if old is not None:
            self._accounts.pop(old[0], None)
        self._legacy = {k: v for k, v in self._legacy.items() if v != account_id}
        self._accessed.pop(account_id, None)
        for data_type in TRACKER_DATA_TYPES:
            self._cache.pop((account_id, data_type), None)

    def _on_key_changed(self, event: ev.KeyChanged) -> None:
        self._reload_key(event.account_id)

    def _on_account_changed(self, event: ev.AccountChanged) -> None:
        self._forget_account(event.account_id)
        self._reload_key(event.account_id)

    def _on_customer_changed(self, event: ev.CustomerChanged) -> None:
        # No customer named: changes were missed (another process restored a backup, or the change
        # feed fell behind), so the documents may be as stale as the keys.
        if event.customer_id is None:
            self.reload_everything()
        else:
            self.reload_keys()

    def _on_data_saved(self, event: ev.TrackerDataSaved) -> None:
        if event.source != "tracker":
            self._cache.pop((event.account_id, event.data_type), None)

    def _on_database_replaced(self) -> None:
        """A restore swapped the file under us: nothing cached can be trusted."""
        self.reload_everything()

    def poll_changes(self) -> None:
        """Picks up what other processes committed since the last poll.

        Credentials by the generation token, which no timestamp can fool: a restore brings back
        rows whose ``updated_at`` is older than any poll, and a key deleted and another added
        leave the count as it was."""
        since = self._last_poll - _POLL_MARGIN
        self._last_poll = datetime.now(timezone.utc)
        with self.db.read_session() as session:
            generation = credentials_generation(session)
            changed_docs = session.execute(
                select(TrackerData.account_id, TrackerData.data_type, TrackerData.updated_at)
                .where(TrackerData.updated_at > since)
            ).all()
        if generation != self._credentials_generation:
            self.reload_everything(generation)
            return
        for account_id, data_type, stamp in changed_docs:
            cached = self._cache.get((account_id, data_type))
            if cached is not None and cached[1] != stamp:
                self._cache.pop((account_id, data_type), None)

    def flush_access_times(self) -> None:
        """Writes coalesced last-access times; leaves ``updated_at`` alone (it marks admin changes).
        When it returns, every access recorded before the call is in the database."""
        with self._flush_lock:
            self._flush_access_times()

    def _flush_access_times(self) -> None:
        pending, self._accessed = self._accessed, {}
        if not pending:
            return
        rows = [
            {"account": account_id, "at": datetime.fromtimestamp(ts, timezone.utc)}
            for account_id, ts in pending.items()
        ]
        # Another endpoint on the database (serve processes behind a load balancer) may have
        # written a later access already: a time only ever moves forward.
        at, stored = bindparam("at", type_=UTCDateTime), TrackerCredential.last_accessed_at
        statement = (
            update(TrackerCredential)
            .where(TrackerCredential.account_id == bindparam("account"))
            .values(last_accessed_at=case((or_(stored.is_(None), stored < at), at), else_=stored),
                    updated_at=TrackerCredential.updated_at)
        )
        try:
            with self.db.session() as session:
                session.connection().execute(statement, rows)
        except Exception:
            for account_id, ts in pending.items():  # kept for the next flush, unless newer ones came
                self._accessed[account_id] = max(ts, self._accessed.get(account_id, ts))
            raise
        self.events.publish(ev.KeysAccessed({r["account"]: r["at"] for r in rows}))

    def _housekeeping(self) -> None:
        next_flush = time.monotonic() + self.flush_interval
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll_changes()
                if time.monotonic() >= next_flush:
                    next_flush = time.monotonic() + self.flush_interval
                    self.flush_access_times()
            except Exception:
                log.exception("Tracker gateway housekeeping failed; retrying")
