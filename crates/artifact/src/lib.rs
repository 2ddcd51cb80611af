//! Artifact storage.
