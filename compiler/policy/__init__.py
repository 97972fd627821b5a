"""Compliance policy: packs as data, the facts they are evaluated over, waivers, self-tests."""
