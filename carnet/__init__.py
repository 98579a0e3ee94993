"""Carnet de suivi des compétences: self-assessment, attestations, signatures, milestones."""
