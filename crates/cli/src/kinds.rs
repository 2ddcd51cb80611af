//! The Flux kinds `get all` lists, and how each becomes a table row — the same columns and
//! values as `flux get <kind>` (flux2 cmd/flux/get_*.go).
//!
//! Objects are read as plain JSON (kube's `DynamicObject`), so the CLI needs only each
//! kind's group, version and plural, not its Rust type.

use std::sync::LazyLock;

use kube::core::{ApiResource, GroupVersionKind};
use regex::Regex;
use serde_json::Value;

/// How a kind's row is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Name, Revision (artifact), Suspended, Ready, Message.
    Source,
    /// As Source, but a Helm repository of type `oci` has no status and is always ready.
    HelmRepository,
    /// As Source, but the revision (a chart version) is not shortened.
    HelmChart,
    /// Name, Revision, Source (`Kind/namespace/name`), Ready, Message.
    ExternalArtifact,
    /// Name, Revision (`status.lastAppliedRevision`), Suspended, Ready, Message.
    Kustomization,
    /// Name, Revision (chart version of the newest history entry), Suspended, Ready, Message.
    HelmRelease,
    /// Name, Suspended, Ready, Message.
    Receiver,
    /// Name, Ready, Message: a Provider has no status, so flux reports it ready.
    Provider,
    /// Name, Suspended, Ready, Message: an Alert has no status, so flux reports it ready.
    Alert,
}

/// One Flux kind as the CLI lists it.
#[derive(Clone, Copy, Debug)]
pub struct FluxKind {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    shape: Shape,
}

const fn kind(
    kind: &'static str,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    shape: Shape,
) -> FluxKind {
    FluxKind {
        kind,
        group,
        version,
        plural,
        shape,
    }
}

const SOURCE: &str = "source.toolkit.fluxcd.io";
const NOTIFICATION: &str = "notification.toolkit.fluxcd.io";

/// Every kind, in the order `flux get all` prints them.
pub const KINDS: [FluxKind; 11] = [
    kind(
        "OCIRepository",
        SOURCE,
        "v1",
        "ocirepositories",
        Shape::Source,
    ),
    kind("Bucket", SOURCE, "v1", "buckets", Shape::Source),
    kind(
        "GitRepository",
        SOURCE,
        "v1",
        "gitrepositories",
        Shape::Source,
    ),
    kind(
        "HelmRepository",
        SOURCE,
        "v1",
        "helmrepositories",
        Shape::HelmRepository,
    ),
    kind("HelmChart", SOURCE, "v1", "helmcharts", Shape::HelmChart),
    kind(
        "ExternalArtifact",
        SOURCE,
        "v1",
        "externalartifacts",
        Shape::ExternalArtifact,
    ),
    kind(
        "HelmRelease",
        "helm.toolkit.fluxcd.io",
        "v2",
        "helmreleases",
        Shape::HelmRelease,
    ),
    kind(
        "Kustomization",
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "kustomizations",
        Shape::Kustomization,
    ),
    kind("Receiver", NOTIFICATION, "v1", "receivers", Shape::Receiver),
    kind(
        "Provider",
        NOTIFICATION,
        "v1beta3",
        "providers",
        Shape::Provider,
    ),
    kind("Alert", NOTIFICATION, "v1beta3", "alerts", Shape::Alert),
];

impl FluxKind {
    /// What kube needs to list this kind without a Rust type.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    /// The column headers, with NAMESPACE first when listing every namespace.
    pub fn headers(&self, all_namespaces: bool) -> Vec<&'static str> {
        let mut headers = if all_namespaces {
            vec!["Namespace"]
        } else {
            vec![]
        };
        headers.push("Name");
        headers.extend_from_slice(match self.shape {
            Shape::Source
            | Shape::HelmRepository
            | Shape::HelmChart
            | Shape::Kustomization
            | Shape::HelmRelease => &["Revision", "Suspended", "Ready", "Message"],
            Shape::ExternalArtifact => &["Revision", "Source", "Ready", "Message"],
            Shape::Receiver | Shape::Alert => &["Suspended", "Ready", "Message"],
            Shape::Provider => &["Ready", "Message"],
        });
        headers
    }

    /// One object's row; the name is `<kind lowercase>/<name>` as in `flux get all`.
    pub fn row(&self, object: &Value, all_namespaces: bool) -> Vec<String> {
        let metadata = &object["metadata"];
        let mut row = Vec::new();
        if all_namespaces {
            row.push(text(&metadata["namespace"]));
        }
        row.push(format!(
            "{}/{}",
            self.kind.to_lowercase(),
            text(&metadata["name"])
        ));
        let status = &object["status"];
        let suspended = suspended(object);
        let artifact_revision = text(&status["artifact"]["revision"]);
        let (ready, message) = ready_and_message(status);
        let cells = match self.shape {
            Shape::Source => vec![
                truncate_hex(&artifact_revision),
                suspended,
                ready,
                truncate_hex(&message),
            ],
            Shape::HelmRepository => {
                let (ready, message) = if object["spec"]["type"] == "oci" {
                    ("True".to_owned(), "Helm repository is Ready".to_owned())
                } else {
                    (ready, message)
                };
                vec![
                    truncate_hex(&artifact_revision),
                    suspended,
                    ready,
                    truncate_hex(&message),
                ]
            }
            Shape::HelmChart => vec![artifact_revision, suspended, ready, truncate_hex(&message)],
            Shape::ExternalArtifact => vec![
                truncate_hex(&artifact_revision),
                source_reference(&object["spec"]["sourceRef"]),
                ready,
                truncate_hex(&message),
            ],
            Shape::Kustomization => vec![
                truncate_hex(&text(&status["lastAppliedRevision"])),
                suspended,
                ready,
                truncate_hex(&message),
            ],
            Shape::HelmRelease => vec![helm_release_revision(status), suspended, ready, message],
            Shape::Receiver => vec![suspended, ready, message],
            Shape::Provider => vec!["True".to_owned(), "Provider is Ready".to_owned()],
            Shape::Alert => vec![suspended, "True".to_owned(), "Alert is Ready".to_owned()],
        };
        row.extend(cells);
        row
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// `True`/`False`, as Go's `strings.Title(strconv.FormatBool(spec.suspend))`.
fn suspended(object: &Value) -> String {
    if object["spec"]["suspend"].as_bool().unwrap_or(false) {
        "True".to_owned()
    } else {
        "False".to_owned()
    }
}

/// The Ready condition's status and message; flux shows `False` and "waiting to be
/// reconciled" when there is none yet.
fn ready_and_message(status: &Value) -> (String, String) {
    status["conditions"]
        .as_array()
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition["type"] == "Ready")
        })
        .map_or_else(
            || ("False".to_owned(), "waiting to be reconciled".to_owned()),
            |condition| (text(&condition["status"]), text(&condition["message"])),
        )
}

/// The chart version of the newest release, else the last attempted revision.
fn helm_release_revision(status: &Value) -> String {
    status["history"]
        .as_array()
        .and_then(|history| history.first())
        .map_or_else(
            || text(&status["lastAttemptedRevision"]),
            |snapshot| text(&snapshot["chartVersion"]),
        )
}

fn source_reference(reference: &Value) -> String {
    if reference.is_object() {
        format!(
            "{}/{}/{}",
            text(&reference["kind"]),
            text(&reference["namespace"]),
            text(&reference["name"])
        )
    } else {
        String::new()
    }
}

/// Shortens every SHA-1 to SHA-512 hex digest in `text` to 8 characters, like flux's
/// `utils.TruncateHex`.
pub fn truncate_hex(text: &str) -> String {
    static HEX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b[a-f0-9]{40,128}\b").expect("the pattern is valid"));
    HEX.replace_all(text, |captures: &regex::Captures<'_>| {
        captures[0][..8].to_owned()
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn by_kind(name: &str) -> FluxKind {
        *KINDS.iter().find(|kind| kind.kind == name).unwrap()
    }

    const SHA: &str = "696f056df216eea4f9401adbee0ff744d4df390f";

    #[test]
    fn truncates_hex_digests_only() {
        assert_eq!(
            truncate_hex(&format!("main@sha1:{SHA}")),
            "main@sha1:696f056d"
        );
        assert_eq!(truncate_hex("6.3.5"), "6.3.5");
        assert_eq!(truncate_hex("abc123"), "abc123");
        assert_eq!(
            truncate_hex(&format!("stored artifact for revision 'main@sha1:{SHA}'")),
            "stored artifact for revision 'main@sha1:696f056d'"
        );
    }

    #[test]
    fn git_repository_row() {
        let object = json!({
            "metadata": {"name": "podinfo", "namespace": "flux-system"},
            "spec": {"suspend": false},
            "status": {
                "artifact": {"revision": format!("main@sha1:{SHA}")},
                "conditions": [{"type": "Ready", "status": "True",
                    "message": format!("stored artifact for revision 'main@sha1:{SHA}'")}],
            },
        });
        assert_eq!(
            by_kind("GitRepository").row(&object, true),
            [
                "flux-system",
                "gitrepository/podinfo",
                "main@sha1:696f056d",
                "False",
                "True",
                "stored artifact for revision 'main@sha1:696f056d'"
            ]
        );
    }

    #[test]
    fn object_without_status_is_waiting() {
        let object = json!({"metadata": {"name": "apps"}, "spec": {"suspend": true}});
        assert_eq!(
            by_kind("Kustomization").row(&object, false),
            [
                "kustomization/apps",
                "",
                "True",
                "False",
                "waiting to be reconciled"
            ]
        );
    }

    #[test]
    fn helm_release_revision_prefers_history() {
        let release = |status| json!({"metadata": {"name": "podinfo"}, "status": status});
        let kind = by_kind("HelmRelease");
        let with_history = release(json!({
            "history": [{"chartVersion": "6.5.0"}, {"chartVersion": "6.4.0"}],
            "lastAttemptedRevision": "6.6.0",
        }));
        assert_eq!(kind.row(&with_history, false)[1], "6.5.0");
        let without = release(json!({"lastAttemptedRevision": "6.6.0"}));
        assert_eq!(kind.row(&without, false)[1], "6.6.0");
    }

    #[test]
    fn static_kinds_are_always_ready() {
        let object = json!({"metadata": {"name": "slack"}, "spec": {}});
        assert_eq!(
            by_kind("Provider").row(&object, false),
            ["provider/slack", "True", "Provider is Ready"]
        );
        assert_eq!(
            by_kind("Alert").row(&object, false),
            ["alert/slack", "False", "True", "Alert is Ready"]
        );
        let oci = json!({"metadata": {"name": "charts"}, "spec": {"type": "oci"}});
        assert_eq!(
            by_kind("HelmRepository").row(&oci, false),
            [
                "helmrepository/charts",
                "",
                "False",
                "True",
                "Helm repository is Ready"
            ]
        );
    }

    #[test]
    fn headers_match_rows() {
        let object = json!({"metadata": {"name": "x", "namespace": "y"}, "spec": {}});
        for kind in KINDS {
            for all_namespaces in [false, true] {
                assert_eq!(
                    kind.headers(all_namespaces).len(),
                    kind.row(&object, all_namespaces).len(),
                    "{}",
                    kind.kind
                );
            }
        }
    }
}
