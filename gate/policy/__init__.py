"""The policy: its file format (`source`, `load`), its typed form (`model`), how an allowlist entry
matches a finding (`match`), and the pure evaluation (`evaluate`) with the types it returns
(`evaluation`)."""
