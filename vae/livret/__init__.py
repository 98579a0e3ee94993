"""Livret 2 (VAE): significant situations per bloc, career data, annexes, submission."""
