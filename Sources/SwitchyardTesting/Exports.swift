// The Wire-level helpers (JSON matching, SSE parsing, seeded randomness) come with the kit, so
// Core tests import one module.
@_exported import SwitchyardWireTesting
