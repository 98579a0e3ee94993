"""Sign-in, server-side sessions, one-time links, throttling. Every act is audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import AccountToken, AuthSession, LoginAttempt, TokenPurpose
from portal.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from portal.settings import Settings
from vae.audit.service import Actor, record
from vae.people.models import Role, User, UserRole
from vae.people.service import find_user, normalise_email

LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class AuthError(ValueError):
    """A refusal to show next to ``field``, in French."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for(user: User, ip: str = "") -> Actor:
    return Actor(user_id=user.id, label=f"{user.full_name} <{user.email}>", ip=ip)


# --- sign-in -------------------------------------------------------------------------------


def _failures(session: Session, *, email: str, ip: str, since: datetime) -> tuple[int, int]:
    by_email = session.scalar(
        select(func.count()).where(
            LoginAttempt.email == email, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    )
    by_ip = session.scalar(
        select(func.count()).where(
            LoginAttempt.ip == ip, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    )
    return by_email or 0, by_ip or 0


def is_locked(session: Session, *, email: str, ip: str, now: datetime, settings: Settings) -> bool:
    since = now - timedelta(minutes=settings.login_window_minutes)
    by_email, by_ip = _failures(session, email=normalise_email(email), ip=ip, since=since)
    return by_email >= settings.login_max_failures or by_ip >= settings.login_max_failures_per_ip


def sign_in(
    *,
    session: Session,
    email: str,
    password: str,
    ip: str,
    user_agent: str,
    now: datetime,
    settings: Settings,
) -> tuple[str, AuthSession]:
    """Check the credentials and open a new session; returns the cookie token and the session.

    After ``login_max_failures`` failures for one address or one IP within the window, every
    attempt is refused (even with the right password) until the window has passed.
    """
    email = normalise_email(email)
    anonymous = Actor(user_id=None, label=email[:254] or "anonyme", ip=ip)
    if is_locked(session, email=email, ip=ip, now=now, settings=settings):
        record(
            session=session,
            actor=anonymous,
            action="auth.signin",
            object_type="account",
            object_id=email,
            outcome="locked",
            now=now,
        )
        raise AuthError(
            "email",
            "Trop de tentatives de connexion ont échoué. Par sécurité, les connexions sont "
            f"suspendues : réessayez dans {settings.login_window_minutes} minutes.",
        )
    user = find_user(session, email)
    ok = user is not None and user.is_active and verify_password(user.password_hash, password)
    session.add(LoginAttempt(at=now, email=email, ip=ip, success=ok))
    if not ok or user is None:
        record(
            session=session,
            actor=anonymous,
            action="auth.signin",
            object_type="account",
            object_id=email,
            outcome="failure",
            subject_id=user.id if user else None,
            now=now,
        )
        session.flush()
        if is_locked(session, email=email, ip=ip, now=now, settings=settings):
            record(
                session=session,
                actor=anonymous,
                action="auth.lock",
                object_type="account",
                object_id=email,
                outcome="locked",
                now=now,
            )
        raise AuthError("email", "Adresse électronique ou mot de passe incorrect.")
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token, auth_session = open_session(
        session=session, user=user, ip=ip, user_agent=user_agent, now=now, settings=settings
    )
    record(
        session=session,
        actor=actor_for(user, ip),
        action="auth.signin",
        object_type="account",
        object_id=user.id,
        subject_id=user.id,
        now=now,
    )
    return token, auth_session


def open_session(
    *, session: Session, user: User, ip: str, user_agent: str, now: datetime, settings: Settings
) -> tuple[str, AuthSession]:
    token = new_token()
    auth_session = AuthSession(
        token_hash=hash_token(token),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
        ip=ip,
        user_agent=user_agent[:300],
    )
    session.add(auth_session)
    session.flush()
    return token, auth_session


def resolve_session(
    session: Session, token: str, *, now: datetime, settings: Settings
) -> AuthSession | None:
    """The live session for a cookie token, or None (unknown, revoked, idle, expired, disabled)."""
    if not token or len(token) > 100:
        return None
    # one statement on every request: the session, its user and the user's roles
    auth_session = (
        session.execute(
            select(AuthSession)
            .where(AuthSession.token_hash == hash_token(token))
            .options(joinedload(AuthSession.user).joinedload(User.role_rows))
        )
        .unique()
        .scalar_one_or_none()
    )
    if auth_session is None or auth_session.revoked_at is not None:
        return None
    idle_limit = auth_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= auth_session.expires_at or now >= idle_limit or not auth_session.user.is_active:
        return None
    if now - auth_session.last_seen_at >= LAST_SEEN_RESOLUTION:
        # Written at most once a minute per session, so reads stay reads; best effort: on SQLite
        # a read transaction cannot take the write lock while a writer holds it, and the next
        # request will write it.
        try:
            session.execute(
                update(AuthSession)
                .where(AuthSession.id == auth_session.id)
                .values(last_seen_at=now)
            )
            session.commit()
        except OperationalError:
            session.rollback()
    return auth_session


def sign_out(*, session: Session, auth_session: AuthSession, ip: str, now: datetime) -> None:
    auth_session.revoked_at = now
    record(
        session=session,
        actor=actor_for(auth_session.user, ip),
        action="auth.signout",
        object_type="account",
        object_id=auth_session.user_id,
        subject_id=auth_session.user_id,
        now=now,
    )


def revoke_sessions(
    *, session: Session, user: User, now: datetime, keep: AuthSession | None = None
) -> int:
    query = update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep.id)
    result = session.execute(
        query.values(revoked_at=now).execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(
    session: Session, user: User, *, now: datetime, settings: Settings
) -> list[AuthSession]:
    idle_since = now - timedelta(minutes=settings.session_idle_minutes)
    return list(
        session.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user.id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
                AuthSession.last_seen_at > idle_since,
            )
            .order_by(AuthSession.last_seen_at.desc())
        )
    )


# --- passwords and one-time links ----------------------------------------------------------


def _check_new_password(user: User, password: str, confirm: str) -> None:
    problem = password_problem(
        password, user_inputs=(user.email, user.first_name, user.last_name, "cqp", "ucanss")
    )
    if problem:
        raise AuthError("password", problem)
    if password != confirm:
        raise AuthError("confirm", "Les deux mots de passe saisis sont différents.")


def change_password(
    *,
    session: Session,
    auth_session: AuthSession,
    current: str,
    new: str,
    confirm: str,
    ip: str,
    user_agent: str,
    now: datetime,
    settings: Settings,
) -> tuple[str, AuthSession]:
    """Change the password; every session of the account ends, this browser gets a new one."""
    user = auth_session.user
    if not verify_password(user.password_hash, current):
        raise AuthError("current", "Le mot de passe actuel est incorrect.")
    if new == current:
        raise AuthError("password", "Choisissez un mot de passe différent de l'actuel.")
    _check_new_password(user, new, confirm)
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    revoke_sessions(session=session, user=user, now=now)
    record(
        session=session,
        actor=actor_for(user, ip),
        action="auth.password_change",
        object_type="account",
        object_id=user.id,
        subject_id=user.id,
        now=now,
    )
    return open_session(
        session=session, user=user, ip=ip, user_agent=user_agent, now=now, settings=settings
    )


def create_link(
    *,
    session: Session,
    actor: Actor,
    user: User,
    purpose: TokenPurpose,
    now: datetime,
    settings: Settings,
) -> str:
    """A one-time link token for ``user``; earlier unused links of the same purpose stop working."""
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose.value,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    token = new_token()
    session.add(
        AccountToken(
            token_hash=hash_token(token),
            user_id=user.id,
            purpose=purpose.value,
            created_at=now,
            expires_at=now + timedelta(hours=settings.token_hours),
            created_by_id=actor.user_id,
        )
    )
    record(
        session=session,
        actor=actor,
        action=f"auth.{purpose.value}",
        object_type="account",
        object_id=user.id,
        subject_id=user.id,
        now=now,
    )
    session.flush()
    return token


def find_link(session: Session, token: str, *, now: datetime) -> AccountToken | None:
    """A usable link (unused, unexpired, account active), or None."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(select(AccountToken).where(AccountToken.token_hash == hash_token(token)))
    if link is None or link.used_at is not None or now >= link.expires_at:
        return None
    if not link.user.is_active:
        return None
    return link


def use_link(
    *,
    session: Session,
    token: str,
    password: str,
    confirm: str,
    ip: str,
    now: datetime,
) -> User:
    """Set the password through an invitation or reset link, once. Ends every session."""
    link = find_link(session, token, now=now)
    if link is None:
        raise AuthError("token", "Ce lien n'est plus valable : demandez-en un nouveau.")
    user = link.user
    _check_new_password(user, password, confirm)
    # Marking the link used with a conditional UPDATE makes a double submission harmless.
    used = session.execute(
        update(AccountToken)
        .where(AccountToken.id == link.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if not getattr(used, "rowcount", 0):
        raise AuthError("token", "Ce lien a déjà été utilisé.")
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    revoke_sessions(session=session, user=user, now=now)
    record(
        session=session,
        actor=actor_for(user, ip),
        action=f"auth.{link.purpose}_used",
        object_type="account",
        object_id=user.id,
        subject_id=user.id,
        now=now,
    )
    return user


# --- administration ------------------------------------------------------------------------


def set_active(*, session: Session, actor: Actor, user: User, active: bool, now: datetime) -> None:
    user.is_active = active
    if not active:
        revoke_sessions(session=session, user=user, now=now)
    record(
        session=session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        object_type="user",
        object_id=user.id,
        subject_id=user.id,
        now=now,
    )


def set_roles(
    *, session: Session, actor: Actor, user: User, roles: set[Role], now: datetime
) -> None:
    if not roles:
        raise AuthError("roles", "Choisissez au moins un rôle.")
    before = {r.value for r in user.roles}
    keep = [row for row in user.role_rows if Role(row.role) in roles]
    user.role_rows = keep + [
        UserRole(role=role.value) for role in sorted(roles) if role.value not in before
    ]
    record(
        session=session,
        actor=actor,
        action="user.roles",
        object_type="user",
        object_id=user.id,
        subject_id=user.id,
        now=now,
        details={"before": sorted(before), "after": sorted(r.value for r in roles)},
    )
