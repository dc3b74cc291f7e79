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
        await conn.execute(
            "INSERT INTO audit_log (moderator_id, action, detail) VALUES ($1, 'account.added', $2)",
            actor_id, {"username": username, "role": role})
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


async def start_session(pool: asyncpg.Pool, moderator: Moderator, secret: str) -> str:
    """A fresh session (never reuses a token presented before login). Returns
    the signed cookie value."""
    token = secrets.token_urlsafe(32)
    await pool.execute(
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
