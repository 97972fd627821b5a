"""One module per rendered component, each with `render(config, workspaces) -> list[Manifest]`;
the ordered table is render/manifests.py."""
