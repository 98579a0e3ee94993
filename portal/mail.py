"""Outgoing mail: console (default), file (DATA_DIR/mail) or SMTP backend."""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage

from portal.settings import Settings
from vae.people.models import User

log = logging.getLogger("vae_portal.mail")


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if settings.mail_backend == "smtp":
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    elif settings.mail_backend == "file":
        folder = settings.data_dir / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
    else:
        log.warning("mail to %s: %s\n%s", to, subject, body)
    return message


def send_reset_mail(settings: Settings, user: User, token: str) -> None:
    send_mail(
        settings,
        to=user.email,
        subject="Réinitialisation de votre mot de passe",
        body=(
            f"Bonjour {user.first_name},\n\nPour choisir un nouveau mot de passe, ouvrez ce "
            f"lien (valable {settings.token_hours} heures, une seule fois) :\n"
            f"{settings.base_url}/reinitialisation/{token}\n\n"
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message."
        ),
    )
