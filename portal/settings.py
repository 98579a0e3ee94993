"""Settings, read once from the environment (and an optional ``.env`` file).

Every setting has a safe default so that ``make run`` works on a fresh machine; production
overrides them through the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: REPO_ROOT / "var")
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    environment: str = "development"
    mail_backend: str = "console"
    mail_from: str = "ne-pas-repondre@cqp.ucanss.local"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    jury_months: tuple[int, ...] = (2, 4, 6, 10, 12)
    jury_exam_days: int = 15
    # the 45-minute VAE interview: the candidate's presentation, then the jury's questions
    interview_presentation_minutes: int = 15
    login_max_failures: int = 5
    # Caisses reach the platform through one outgoing address: five failures from one IP would
    # lock out a whole organisme, so the per-IP ceiling is higher (password spraying).
    login_max_failures_per_ip: int = 20
    login_window_minutes: int = 15
    token_hours: int = 72
    # the candidate may appeal against the avis of the jury professionnel within this period
    recours_days: int = 15
    # livret and carnet content is anonymised this many months after the end of the parcours
    retention_months: int = 12
    # prerequisites of the CQP per route (keys of vae.decision.rules.PREREQUISITE_LABELS)
    cqp_prerequisites_formation: tuple[str, ...] = ("pass", "premss")
    cqp_prerequisites_vae: tuple[str, ...] = ()
    # the platform's sealing key and certificate (PEM); outside production a self-signed pair
    # is generated under DATA_DIR/keys on first use
    seal_key_file: Path | None = None
    seal_cert_file: Path | None = None

    def cqp_prerequisites(self, route: str) -> tuple[str, ...]:
        return (
            self.cqp_prerequisites_formation if route == "formation" else self.cqp_prerequisites_vae
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


def _int(config: Config, name: str, default: int) -> int:
    raw = config(name, default=str(default))
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"setting {name}={raw!r} is not a whole number") from None


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pin PostgreSQL to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg://")):
        raise SettingsError(
            f"DATABASE_URL {url.split(':', 1)[0]}:… is not supported "
            "(use sqlite:///path or postgresql://user@host:port/db)"
        )
    return url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    env_file = REPO_ROOT / ".env"
    config = Config(env_file if env_file.is_file() and environ is None else None, environ=env)
    data_dir = Path(config("DATA_DIR", default=str(REPO_ROOT / "var"))).resolve()
    default_db = f"sqlite:///{data_dir / 'vae-portal.sqlite3'}"
    port = _int(config, "PORT", 8000)
    host = config("HOST", default="127.0.0.1")
    months_raw = config("JURY_MONTHS", default="2,4,6,10,12")
    try:
        months = tuple(int(m) for m in months_raw.split(",") if m.strip())
    except ValueError:
        raise SettingsError(f"setting JURY_MONTHS={months_raw!r} is not a list of months") from None
    if not months or any(not 1 <= m <= 12 for m in months):
        raise SettingsError(f"setting JURY_MONTHS={months_raw!r} must list months 1 to 12")
    presentation = _int(config, "INTERVIEW_PRESENTATION_MINUTES", 15)
    if not 1 <= presentation <= 44:
        raise SettingsError(
            f"setting INTERVIEW_PRESENTATION_MINUTES={presentation} must lie within 1 and 44 "
            "(the questions take the rest of the 45-minute interview)"
        )
    prerequisites = {
        route: _prerequisites(config, f"CQP_PREREQUISITES_{route.upper()}", default)
        for route, default in (("formation", "pass,premss"), ("vae", ""))
    }
    seal_key = config("SEAL_KEY_FILE", default="")
    seal_cert = config("SEAL_CERT_FILE", default="")
    if bool(seal_key) != bool(seal_cert):
        raise SettingsError("settings SEAL_KEY_FILE and SEAL_CERT_FILE go together")
    retention_months = _int(config, "RETENTION_MONTHS", 12)
    if retention_months < 1:
        raise SettingsError(f"setting RETENTION_MONTHS={retention_months} must be at least 1")
    mail_backend = config("MAIL_BACKEND", default="console")
    if mail_backend not in ("console", "file", "smtp"):
        raise SettingsError(f"setting MAIL_BACKEND={mail_backend!r} must be console, file or smtp")
    return Settings(
        database_url=normalise_database_url(config("DATABASE_URL", default=default_db)),
        host=host,
        port=port,
        data_dir=data_dir,
        base_url=config("BASE_URL", default=_local_url(host, port)).rstrip("/"),
        debug=config("DEBUG", cast=bool, default=False),
        environment=config("ENVIRONMENT", default="development"),
        mail_backend=mail_backend,
        mail_from=config("MAIL_FROM", default="ne-pas-repondre@cqp.ucanss.local"),
        smtp_host=config("SMTP_HOST", default="localhost"),
        smtp_port=_int(config, "SMTP_PORT", 25),
        smtp_user=config("SMTP_USER", default=""),
        smtp_password=config("SMTP_PASSWORD", default=""),
        smtp_starttls=config("SMTP_STARTTLS", cast=bool, default=False),
        session_idle_minutes=_int(config, "SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int(config, "SESSION_MAX_HOURS", 12),
        jury_months=months,
        jury_exam_days=_int(config, "JURY_EXAM_DAYS", 15),
        interview_presentation_minutes=presentation,
        login_max_failures=_int(config, "LOGIN_MAX_FAILURES", 5),
        login_max_failures_per_ip=_int(config, "LOGIN_MAX_FAILURES_PER_IP", 20),
        login_window_minutes=_int(config, "LOGIN_WINDOW_MINUTES", 15),
        token_hours=_int(config, "TOKEN_HOURS", 72),
        recours_days=_int(config, "RECOURS_DAYS", 15),
        retention_months=retention_months,
        cqp_prerequisites_formation=prerequisites["formation"],
        cqp_prerequisites_vae=prerequisites["vae"],
        seal_key_file=Path(seal_key) if seal_key else None,
        seal_cert_file=Path(seal_cert) if seal_cert else None,
    )


def _local_url(host: str, port: int) -> str:
    """The default BASE_URL: the server's own address (an IPv6 host in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _prerequisites(config: Config, name: str, default: str) -> tuple[str, ...]:
    from vae.decision.rules import PREREQUISITE_LABELS

    raw = config(name, default=default)
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    unknown = [k for k in keys if k not in PREREQUISITE_LABELS]
    if unknown:
        known = ", ".join(PREREQUISITE_LABELS)
        raise SettingsError(f"setting {name}={raw!r}: unknown prerequisite(s) (known: {known})")
    return keys
