"""Administrators: first-run creation, login, roles, password changes and resets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select

from giftdesk.db.models import ROLES, Administrator
from giftdesk.db.types import utcnow
from giftdesk.core.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from giftdesk.core import validation
from giftdesk.core.context import Actor, ServiceContext
from giftdesk.system import login_throttle as throttle
from giftdesk.system.login_throttle import login_key
from giftdesk.system.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password



def _refusal(key: str, state, until, now) -> str:
    if state.locked():
        return (f"Too many wrong passwords: '{key}' is locked for {throttle.wait_text(until, now)} more, or until "
                f"an administrator unlocks it.")
    return f"Wait {throttle.wait_text(until, now)} before the next try (too many wrong passwords)."


@dataclass(frozen=True)
class AdminRow:
    id: int
    username: str
    role: str
    is_super: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = None  # too many wrong passwords: no login before then

    @classmethod
    def of(cls, admin: Administrator) -> "AdminRow":
        return cls(admin.id, admin.username, admin.role, admin.is_super, admin.created_at, admin.last_login_at)

    def to_json(self) -> dict:
        return {"id": self.id, "username": self.username, "role": self.role, "isSuper": self.is_super,
                "createdAt": self.created_at.isoformat(),
                "lastLoginAt": self.last_login_at.isoformat() if self.last_login_at else None,
                "lockedUntil": self.locked_until.isoformat() if self.locked_until else None}


def _check_username(username: str | None) -> str:
    name = validation.name(username, "username", required=True, max_length=64)
    assert name is not None
    if not all(c.isalnum() or c in "._-@" for c in name):
        raise ValidationError("username may hold letters, digits and . _ - @ only.", field="username")
    return name


def _check_password(password: str | None, username: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if password.strip().lower() == username.lower():
        raise ValidationError("The password must not be the username.", field="password")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"role must be one of: {', '.join(ROLES)}.", field="role")
    return role


class AdminService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.clock = utcnow  # what "now" is for login throttling (tests move it on instead of waiting)

    def count(self) -> int:
        with self.ctx.db.read_session() as session:
            return session.scalar(select(func.count(Administrator.id))) or 0

    def needs_first_admin(self) -> bool:
        return self.count() == 0

    def list(self) -> list[AdminRow]:
        now = self.clock()
        with self.ctx.db.read_session() as session:
            rows = []
            for admin in session.scalars(select(Administrator).order_by(Administrator.username)):
                state = throttle.standing(session, admin.username, now)
                until = state.waits_until() if state.locked() else None
                rows.append(replace(AdminRow.of(admin), locked_until=until if until and until > now else None))
            return rows

    def create(self, username: str, password: str, role: str = "admin") -> AdminRow:
        """The first administrator becomes the super admin; later ones need an admin to create them."""
        username = _check_username(username)
        password = _check_password(password, username)
        role = _check_role(role)
        password_hash = hash_password(password)  # slow on purpose: outside the transaction
        with self.ctx.db.session() as session:
            first = (session.scalar(select(func.count(Administrator.id))) or 0) == 0
            if first:
                role = "admin"
            else:
                self.ctx.require("admin", "create administrators")
            if session.scalar(select(Administrator.id).where(func.lower(Administrator.username) == username.lower())):
                raise ConflictError(f"An administrator called '{username}' already exists.")
            admin = Administrator(username=username, password_hash=password_hash, role=role, is_super=first)
            session.add(admin)
            session.flush()
            actor = self.ctx.actor.username if not first else username
            self.ctx.audit(
                session, "admin.create", f"{actor} created {role} '{username}'" + (" (super admin)" if first else ""),
                "administrator", admin.id,
            )
            return AdminRow.of(admin)

    def authenticate(self, username: str, password: str) -> Actor:
        """The administrator, or AuthenticationError; repeated wrong passwords pause and then lock
        the name (``login_throttle``)."""
        key = login_key(username)
        now = self.clock()
        with self.ctx.db.session() as session:
            before = throttle.standing(session, key, now)
            until = before.waits_until()
            if until is not None and now < until:
                raise AuthenticationError(_refusal(key, before, until, now))
            admin = session.scalar(select(Administrator).where(func.lower(Administrator.username) == key))
            # Hash even when the user is unknown so timing does not reveal which usernames exist.
            stored = admin.password_hash if admin else hash_password("not-a-user")
            if verify_password(password or "", stored) and admin is not None:
                admin.last_login_at = now
                if needs_rehash(stored):  # moved in with another scheme's hash: ours from now on
                    admin.password_hash = hash_password(password)
                    self.ctx.audit(session, "admin.rehash", f"Rehashed the imported password of '{admin.username}' "
                                   "at its first login", "administrator", admin.id)
                return Actor(admin.username, admin.role, admin.id)
        raise AuthenticationError(self._failed(key, now))

    def _failed(self, key: str, now) -> str:
        """Records a wrong password (its own transaction: the refusal must not roll it back)."""
        with self.ctx.db.session() as session:
            self.ctx.db.add_audit_entry(session, at=now, actor=throttle.TARGET, action=throttle.FAILED,
                                        target_type=throttle.TARGET, target_id=key,
                                        summary=f"Wrong password for '{key}'", details=None)
            session.flush()
            after = throttle.standing(session, key, now)
            if after.locked():
                self.ctx.db.add_audit_entry(session, at=now, actor=throttle.TARGET, action=throttle.LOCKED,
                                            target_type=throttle.TARGET, target_id=key,
                                            summary=f"'{key}' locked for {throttle.wait_text(now + throttle.LOCKOUT, now)} "
                                                    f"after {after.failures} wrong passwords", details=None)
        until = after.waits_until()
        if after.locked():
            return (f"Wrong username or password. Too many wrong passwords: '{key}' is locked for "
                    f"{throttle.wait_text(until, now)}, or until an administrator unlocks it.")
        if until is not None:
            return f"Wrong username or password. Wait {throttle.wait_text(until, now)} before the next try."
        return "Wrong username or password."

    def unlock(self, username: str) -> None:
        """Forgets a name's wrong passwords (it is no longer paused or locked)."""
        self.ctx.require("admin", "unlock administrators")
        key = login_key(username)
        with self.ctx.db.session() as session:
            # Stamped by the same clock as the failures it forgives.
            self.ctx.db.add_audit_entry(session, at=self.clock(), actor=self.ctx.actor.username,
                                        action=throttle.UNLOCKED, target_type=throttle.TARGET, target_id=key,
                                        summary=f"{self.ctx.actor.username} unlocked '{key}'", details=None)

    def locked_until(self, username: str):
        """When a locked name may try again, or None when it is not locked."""
        now = self.clock()
        with self.ctx.db.read_session() as session:
            state = throttle.standing(session, username, now)
        until = state.waits_until()
        return until if state.locked() and until is not None and until > now else None

    def change_password(self, current: str, new: str) -> None:
        """The acting administrator changes their own password."""
        with self.ctx.db.read_session() as session:
            admin = self._by_name(session, self.ctx.actor.username)
            stored = admin.password_hash
        if not verify_password(current or "", stored):
            raise AuthenticationError("The current password is wrong.")
        new = _check_password(new, self.ctx.actor.username)
        self._set_password(self.ctx.actor.username, new, "admin.change_password", "changed their password")

    def reset_password(self, username: str, new: str) -> None:
        """For the owner of the data directory (CLI), or an admin resetting someone else's password."""
        self.ctx.require("admin", "reset passwords")
        new = _check_password(new, username)
        self._set_password(username, new, "admin.reset_password", f"reset the password of '{username}'")

    def set_role(self, username: str, role: str) -> AdminRow:
        self.ctx.require("admin", "change roles")
        role = _check_role(role)
        with self.ctx.db.session() as session:
            admin = self._by_name(session, username)
            if admin.is_super and role != "admin":
                raise PermissionDeniedError("The super admin always keeps the admin role.")
            before = admin.role
            admin.role = role
            self.ctx.audit(session, "admin.role", f"Changed the role of '{username}' from {before} to {role}",
                           "administrator", admin.id)
            return AdminRow.of(admin)

    def delete(self, username: str) -> None:
        self.ctx.require("admin", "delete administrators")
        with self.ctx.db.session() as session:
            admin = self._by_name(session, username)
            if admin.is_super:
                raise PermissionDeniedError("The super admin cannot be deleted.")
            if admin.username == self.ctx.actor.username:
                raise PermissionDeniedError("You cannot delete your own account while logged in with it.")
            session.delete(admin)
            self.ctx.audit(session, "admin.delete", f"Deleted administrator '{username}'", "administrator", admin.id)

    def _set_password(self, username: str, new: str, action: str, summary: str) -> None:
        password_hash = hash_password(new)
        with self.ctx.db.session() as session:
            admin = self._by_name(session, username)
            admin.password_hash = password_hash
            self.ctx.audit(session, action, f"{self.ctx.actor.username} {summary}", "administrator", admin.id)

    @staticmethod
    def _by_name(session, username: str) -> Administrator:
        admin = session.scalar(select(Administrator).where(func.lower(Administrator.username) == (username or "").strip().lower()))
        if admin is None:
            raise NotFoundError(f"There is no administrator called '{username}'.")
        return admin
