"""VAE and certification domain: référentiel, 80 % rules, parcours, livret, jury, decisions."""
