"""hks's own shipped data (catalogue, policy packs, templates, schemas): where it is, read fast."""
