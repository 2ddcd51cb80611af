//! Errors of the resource manager, each naming the object like Flux does.

use std::fmt;

use super::changeset::ChangeSet;
use super::inventory::ObjectId;
use crate::health::{HealthResult, Status};

/// A failure concerning one object (or the wait for a set of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The object lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("invalid object {subject}: {message}")]
    InvalidObject {
        /// What is known of the object.
        subject: String,
        /// What is missing.
        message: String,
    },
    /// A namespaced object without `metadata.namespace`.
    #[error("{subject} namespace not specified")]
    NamespaceNotSpecified {
        /// `Kind/name`.
        subject: String,
    },
    /// The object's kind is not served by the API server.
    #[error("{subject} {message}")]
    UnknownKind {
        /// `Kind/ns/name`.
        subject: String,
        /// e.g. `no matches for kind "Widget" in version "example.com/v1"`.
        message: String,
    },
    /// The server-side dry-run apply was rejected.
    #[error("{subject} dry-run failed{}: {message}", reason_suffix(reason))]
    DryRun {
        /// `Kind/ns/name`.
        subject: String,
        /// The API reason, e.g. `Invalid` (may be empty).
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// Any other failed call for the object; `action` says which (`apply failed`,
    /// `delete failed`, `query failed`, `metadata.managedFields cleanup failed`,
    /// `immutable field detected, failed to delete object`).
    #[error("{subject} {action}: {message}")]
    Request {
        /// `Kind/ns/name`.
        subject: String,
        /// What failed.
        action: &'static str,
        /// The API server's message.
        message: String,
    },
    /// Objects did not become healthy.
    #[error(transparent)]
    Wait(#[from] WaitError),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

impl Error {
    /// The message of a Kubernetes API error: the server's text when there is one.
    pub(crate) fn server_message(error: &kube::Error) -> String {
        match error {
            kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
            other => other.to_string(),
        }
    }

    /// A [`Error::Request`] for `id`.
    pub(crate) fn request(id: &ObjectId, action: &'static str, error: &kube::Error) -> Self {
        Self::Request {
            subject: id.subject(),
            action,
            message: Self::server_message(error),
        }
    }
}

/// Some objects failed: the entries of those that succeeded, so that the caller can keep
/// its inventory truthful, and the errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetError {
    /// What was done before or besides the failures.
    pub change_set: ChangeSet,
    /// One error per failed object (or wait).
    pub errors: Vec<Error>,
}

impl fmt::Display for ChangeSetError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.errors.iter().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            write!(formatter, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ChangeSetError {}

/// Objects that did not become `Current`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: [{}]", if *.timed_out { "timeout waiting for" } else { "failed early due to stalled resources" }, list(.objects))]
pub struct WaitError {
    /// True when the timeout expired; false when waiting stopped because an object failed.
    pub timed_out: bool,
    /// The objects that were not `Current`, with their last health.
    pub objects: Vec<(ObjectId, HealthResult)>,
}

fn list(objects: &[(ObjectId, HealthResult)]) -> String {
    objects
        .iter()
        .map(|(id, health)| {
            // Like Flux, only read errors (status Unknown) carry their message.
            if health.status == Status::Unknown && !health.message.is_empty() {
                format!(
                    "{} status: '{}': {}",
                    id.subject(),
                    health.status,
                    health.message
                )
            } else {
                format!("{} status: '{}'", id.subject(), health.status)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_object() {
        let error = Error::DryRun {
            subject: "Service/ns/web".into(),
            reason: "Invalid".into(),
            message: "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value".into(),
        };
        assert_eq!(
            error.to_string(),
            "Service/ns/web dry-run failed (Invalid): Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value"
        );
        let missing = Error::NamespaceNotSpecified {
            subject: "Deployment/app".into(),
        };
        assert_eq!(
            missing.to_string(),
            "Deployment/app namespace not specified"
        );
    }

    #[test]
    fn wait_messages_match_flux() {
        let objects = vec![
            (
                ObjectId::new("ns", "app", "apps", "Deployment"),
                HealthResult::in_progress("Available: 0/1"),
            ),
            (
                ObjectId::new("", "x", "", "Namespace"),
                HealthResult::new(Status::Terminating, ""),
            ),
        ];
        let timeout = WaitError {
            timed_out: true,
            objects: objects.clone(),
        };
        assert_eq!(
            timeout.to_string(),
            "timeout waiting for: [Deployment/ns/app status: 'InProgress', Namespace/x status: 'Terminating']"
        );
        let stalled = WaitError {
            timed_out: false,
            objects: objects[..1].to_vec(),
        };
        assert_eq!(
            stalled.to_string(),
            "failed early due to stalled resources: [Deployment/ns/app status: 'InProgress']"
        );
    }
}
