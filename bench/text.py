"""Deterministic French filler text of realistic lengths for the national-scale dataset."""

from __future__ import annotations

import random

SENTENCES = (
    "Une assurée se présente à l'accueil, inquiète : ses indemnités journalières ne sont plus "
    "versées depuis deux mois.",
    "J'ai reformulé sa demande, vérifié son dossier et constaté qu'une pièce manquait.",
    "J'ai expliqué la démarche, les délais et l'accompagnement possible par le service social.",
    "L'appel a été traité dans le respect de la confidentialité et du secret professionnel.",
    "Le dossier a été fiabilisé puis transmis au service de production avec une note claire.",
    "J'ai proposé un rendez-vous en agence pour finaliser la demande de complémentaire santé.",
    "Le candidat a su adapter son discours à un usager en difficulté avec le numérique.",
    "Une réclamation écrite a donné lieu à un rappel sortant et à une réponse personnalisée.",
    "Les informations ont été tracées dans l'outil de gestion de la relation client.",
    "Un contrôle de cohérence a permis de détecter une anomalie de traitement et de la signaler.",
    "La situation a été présentée en réunion d'équipe pour partager la bonne pratique.",
    "Reste à gagner en concision dans les écrits et à mieux prioriser les demandes urgentes.",
    "Très bonne maîtrise de l'écoute active ; « œuvre commune » avec le pôle employeurs ✓.",
    "L'offre de services a été présentée à un employeur lors d'un atelier collectif.",
    "Les indicateurs de qualité de service ont été suivis chaque semaine avec le manager.",
    "J'ai accompagné une nouvelle collègue pendant ses premières semaines de prise de poste.",
)


def text(rng: random.Random, low: int, high: int) -> str:
    """Sentences drawn from the bank until a length between ``low`` and ``high`` is reached."""
    target = rng.randint(low, high)
    parts: list[str] = []
    size = 0
    while size < target:
        sentence = SENTENCES[rng.randrange(len(SENTENCES))]
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)[:high]


def paragraphs(rng: random.Random, low: int, high: int) -> str:
    """A rubric of the livret: two or three paragraphs."""
    count = rng.randint(2, 3)
    return "\n\n".join(text(rng, low // count, high // count) for _ in range(count))
