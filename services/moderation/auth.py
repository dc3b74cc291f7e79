"""Moderator accounts and sessions.

Passwords: argon2id. Sessions: a random token in a signed, HttpOnly,
SameSite=Strict cookie; the database keeps only its SHA-256, so logging out or
disabling an account ends the session everywhere. A new token at every login.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, TimestampSigner

from services.moderation import audit

SESSION_COOKIE = "braided_mod"
SESSION_SECONDS = 12 * 3600
ROLES = ("moderator", "admin")
_HASHER = PasswordHasher()  # argon2id with the library's current defaults
_DUMMY = _HASHER.hash("not a password")


@dataclass(frozen=True)
class Moderator:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccountError(ValueError):
    pass


def check_password_strength(password: str) -> None:
    if len(password) < 12:
        raise AccountError("Passwords need at least 12 characters.")


async def add_moderator(conn: asyncpg.Connection, username: str, password: str, role: str = "moderator",
                        actor_id: int | None = None) -> int:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError("A username is 1–64 characters without spaces.")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password_strength(password)
    password_hash = await asyncio.to_thread(_HASHER.hash, password)
    async with conn.transaction():
        try:
            mod_id = await conn.fetchval(
                "INSERT INTO moderators (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id",
                username, password_hash, role)
        except asyncpg.UniqueViolationError:
            raise AccountError(f"There is already a moderator called {username!r}.") from None
        await audit.record(conn, actor_id, "account.added", {"username": username, "role": role})
    return mod_id


async def authenticate(pool: asyncpg.Pool, username: str, password: str) -> Moderator | None:
    row = await pool.fetchrow(
        "SELECT id, username, role, password_hash, disabled FROM moderators WHERE username = $1", username)

    def _verify() -> bool:
        try:
            # Verify against a dummy hash for unknown names: same cost either way.
            return _HASHER.verify(row["password_hash"] if row else _DUMMY, password) and row is not None
        except (VerificationError, InvalidHashError):
            return False

    if not await asyncio.to_thread(_verify) or row is None or row["disabled"]:
        return None
    return Moderator(row["id"], row["username"], row["role"])


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def start_session(pool: asyncpg.Pool, moderator: Moderator, secret: str, previous: str | None = None) -> str:
    """A fresh session (never reuses a token presented before login); the
    session the browser held before, if any, is ended, so a planted or stolen
    cookie does not survive a login. Returns the signed cookie value."""
    token = secrets.token_urlsafe(32)
    old = _unsign(previous, secret)
    async with pool.acquire() as conn, conn.transaction():
        if old is not None:
            await conn.execute("DELETE FROM sessions WHERE token_hash = $1", _digest(old))
        # Expired sessions are swept here rather than by a timer.
        await conn.execute("DELETE FROM sessions WHERE moderator_id = $1 AND expires_at < now()", moderator.id)
        await conn.execute(
            "INSERT INTO sessions (token_hash, moderator_id, expires_at)"
            " VALUES ($1, $2, now() + make_interval(secs => $3))", _digest(token), moderator.id, SESSION_SECONDS)
    return TimestampSigner(secret, salt="braided-session").sign(token).decode()


def _unsign(cookie: str | None, secret: str) -> str | None:
    if not cookie:
        return None
    try:
        return TimestampSigner(secret, salt="braided-session").unsign(cookie, max_age=SESSION_SECONDS).decode()
    except BadSignature:
        return None


async def session_moderator(pool: asyncpg.Pool, cookie: str | None, secret: str) -> Moderator | None:
    token = _unsign(cookie, secret)
    if token is None:
        return None
    row = await pool.fetchrow(
        "SELECT m.id, m.username, m.role FROM sessions s JOIN moderators m ON m.id = s.moderator_id"
        " WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT m.disabled", _digest(token))
    return Moderator(row["id"], row["username"], row["role"]) if row else None


async def end_session(pool: asyncpg.Pool, cookie: str | None, secret: str) -> None:
    token = _unsign(cookie, secret)
    if token is not None:
        await pool.execute("DELETE FROM sessions WHERE token_hash = $1", _digest(token))


# --- Account administration (admins, in the UI and the CLI) ----------------------------


async def list_moderators(pool: asyncpg.Pool | asyncpg.Connection) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT m.id, m.username, m.role, m.disabled, m.created_at,"
        " (SELECT count(*) FROM sessions s WHERE s.moderator_id = m.id AND s.expires_at > now()) AS sessions"
        " FROM moderators m ORDER BY m.disabled, m.username")


async def usernames(pool: asyncpg.Pool) -> list[str]:
    return [r["username"] for r in await pool.fetch("SELECT username FROM moderators ORDER BY username")]


async def _find(conn: asyncpg.Connection, username: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT id, username, role, disabled FROM moderators WHERE username = $1", username)
    if row is None:
        raise AccountError(f"There is no moderator called {username!r}.")
    return row


async def set_disabled(conn: asyncpg.Connection, username: str, disabled: bool, actor_id: int | None = None) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    async with conn.transaction():
        row = await _find(conn, username)
        if disabled and row["id"] == actor_id:
            raise AccountError("You cannot disable your own account; ask another admin.")
        if disabled and row["role"] == "admin" and not row["disabled"] and not await conn.fetchval(
                "SELECT count(*) > 1 FROM moderators WHERE role = 'admin' AND NOT disabled"):
            raise AccountError("That is the last admin; add another admin first.")
        await conn.execute("UPDATE moderators SET disabled = $2 WHERE id = $1", row["id"], disabled)
        if disabled:
            await conn.execute("DELETE FROM sessions WHERE moderator_id = $1", row["id"])
        await audit.record(conn, actor_id, "account.disabled" if disabled else "account.enabled",
                           {"username": username})


async def reset_password(conn: asyncpg.Connection, username: str, password: str, actor_id: int | None = None) -> None:
    """Set a new password and end the account's sessions (a reset usually means
    the old password or a device is no longer trusted)."""
    check_password_strength(password)
    password_hash = await asyncio.to_thread(_HASHER.hash, password)
    async with conn.transaction():
        row = await _find(conn, username)
        await conn.execute("UPDATE moderators SET password_hash = $2 WHERE id = $1", row["id"], password_hash)
        await conn.execute("DELETE FROM sessions WHERE moderator_id = $1", row["id"])
        await audit.record(conn, actor_id, "account.reset", {"username": username})
