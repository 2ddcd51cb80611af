//! Test-only helpers.
