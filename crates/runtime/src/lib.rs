//! Shared controller machinery.
