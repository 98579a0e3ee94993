"""Password hashing (argon2id via argon2-cffi) and the password policy."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_STRENGTH = 3  # zxcvbn score out of 4: refuses common passwords, keyboard walks, repeats
# zxcvbn knows QWERTY walks; French users type AZERTY ones ("azertyuiop"): score both readings.
AZERTY_AS_QWERTY = str.maketrans("azqwmAZQWM", "qwaz;QWAZ:")

_hasher = PasswordHasher()  # argon2id with the library's recommended (RFC 9106 low-memory) cost


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so unknown accounts are not told apart by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, user_inputs: Iterable[str] = ()) -> str | None:
    """A French message when the password is refused, else None.

    zxcvbn (a maintained strength estimator with lists of common passwords) refuses common or
    guessable passwords, including ones built from the person's own name or e-mail.
    """
    if len(password) < MIN_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères."
    if len(password) > MAX_LENGTH:
        return f"Le mot de passe ne doit pas dépasser {MAX_LENGTH} caractères."
    inputs = [
        part
        for value in user_inputs
        for part in value.lower().replace("@", " ").replace(".", " ").split()
    ]
    lowered = password.lower()
    if any(len(part) >= 4 and part in lowered for part in inputs):
        return "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre adresse."
    candidate = password[:100]
    score = min(
        zxcvbn(candidate, user_inputs=inputs)["score"],
        zxcvbn(candidate.translate(AZERTY_AS_QWERTY), user_inputs=inputs)["score"],
    )
    if score < MIN_STRENGTH:
        return (
            "Ce mot de passe est trop courant ou trop facile à deviner : choisissez par exemple "
            "une phrase de plusieurs mots sans lien entre eux."
        )
    return None
