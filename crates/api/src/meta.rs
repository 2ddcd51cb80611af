//! Types shared by several Flux kinds (Flux's `fluxcd/pkg/apis/meta` and
//! `fluxcd/pkg/apis/kustomize`): conditions, artifacts, object references and the
//! kustomize selector, patch and image types.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

/// Pattern of a Go duration as Flux accepts it in `interval`-like fields.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
/// Pattern of a timeout: a duration without hours.
pub const TIMEOUT_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";
/// Pattern of an artifact digest, `<algorithm>:<encoded>`.
pub const DIGEST_PATTERN: &str = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$";

/// Schema transform for fields that are a plain Go `int` in Flux: their CRDs say only
/// `type: integer`, with no `format`, so the `int64` our Rust integer would add is removed.
/// Use as `#[schemars(transform = crate::meta::go_int)]`.
pub fn go_int(schema: &mut Schema) {
    schema.remove("format");
}

/// The state of one aspect of an object, as `metav1.Condition` puts it on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The aspect this condition describes, in CamelCase (for example `Ready` or `Stalled`).
    #[schemars(
        length(max = 316),
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    #[serde(rename = "type")]
    pub type_: String,
    /// Whether the condition holds: `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// The `metadata.generation` of the object when this condition was last set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// When the status last changed from one value to another.
    pub last_transition_time: Time,
    /// A CamelCase, machine-readable word for why the condition is in its current state.
    #[schemars(
        length(min = 1, max = 1024),
        regex(pattern = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    )]
    pub reason: String,
    /// A human-readable explanation of the current state; may be empty.
    #[schemars(length(max = 32768))]
    pub message: String,
}

/// The three states a [`Condition`] can be in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// It is not known (yet) whether the condition holds.
    #[default]
    Unknown,
}

impl ConditionStatus {
    /// The wire form of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }
}

/// A file produced by a source reconciler and served over HTTP to its consumers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Where the file lives, relative to the storage root:
    /// `<kind>/<namespace>/<name>/<file>`.
    pub path: String,
    /// The HTTP address the file can be downloaded from.
    pub url: String,
    /// The origin revision the file was made from, for example `main@sha1:<commit>`.
    pub revision: String,
    /// The digest of the file, `<algorithm>:<hex>` (sha256 unless configured otherwise).
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: String,
    /// When the file was last written to storage.
    pub last_update_time: Time,
    /// The size of the file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Extra facts about the artifact, such as the annotations of an OCI manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A reference to an object in the same namespace, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// The name of the referenced object.
    pub name: String,
}

/// A reference to an object by name, in the given namespace or the referrer's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamespacedObjectReference {
    /// The name of the referenced object.
    pub name: String,
    /// The namespace of the referenced object; the referrer's namespace when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to an object of any kind, by kind and name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// The API version of the referenced object, `group/version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The kind of the referenced object.
    pub kind: String,
    /// The name of the referenced object.
    pub name: String,
    /// The namespace of the referenced object; the referrer's namespace when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to one key of a Secret in the referrer's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyReference {
    /// The name of the Secret.
    pub name: String,
    /// The key in the Secret's data; each use documents its own default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Another object this one waits for before it reconciles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// The name of the dependency.
    pub name: String,
    /// The namespace of the dependency; the dependent's namespace when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A CEL expression over `self` and `dep` that decides readiness instead of the
    /// built-in check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}

/// Where to find the kubeconfig of a remote cluster: a Secret or a ConfigMap, exactly one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    extend("x-kubernetes-validations" = [
        {"message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified", "rule": "has(self.configMapRef) || has(self.secretRef)"},
        {"message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified", "rule": "!has(self.configMapRef) || !has(self.secretRef)"},
    ])
)]
pub struct KubeConfigReference {
    /// A ConfigMap describing how to reach the cluster with workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
    /// A Secret holding a kubeconfig under `key` (default `value`, or `value.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

/// Labels and annotations stamped on every object a reconciler applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    /// Annotations added to every object, replacing those with the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels added to every object, replacing those with the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Selects objects of a kustomize build by id, labels or annotations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// The API group to match (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The API version to match (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The kind to match (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The namespace to match (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name to match (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A Kubernetes annotation selector the object's annotations must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    /// A Kubernetes label selector the object's labels must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

/// A strategic merge or JSON 6902 patch, and the objects it applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Patch {
    /// The patch itself: a partial object (strategic merge) or a list of JSON 6902
    /// operations.
    pub patch: String,
    /// The objects to patch; the patch's own kind and name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// Replaces a container image's name, tag or digest, as kustomize's `images` field does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// The image name to look for in containers.
    pub name: String,
    /// The name to replace it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// The tag to replace it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// The digest to pin; takes precedence over `newTag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// CEL expressions that compute the health of custom resources of one API group (and kind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    /// The API version (`group/version`) of the objects; only the group is matched.
    pub api_version: String,
    /// The kind of the objects; all kinds of the group when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Evaluated first: when true the object is still progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// Evaluated second: when true the object has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Evaluated last: when true the object is healthy.
    pub current: String,
}

/// A reference to a ConfigMap or Secret whose data feeds Helm values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// `Secret` or `ConfigMap`.
    pub kind: ValuesReferenceKind,
    /// The name of the object, in the referrer's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The key holding the values; `values.yaml` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = r"^[\-._a-zA-Z0-9]+$"))]
    pub values_key: Option<String>,
    /// Where to put the value, in Helm `--set` path syntax; the whole document is merged
    /// at the root when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 250),
        regex(pattern = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$")
    )]
    pub target_path: Option<String>,
    /// Whether a missing object is tolerated; a missing key, a bad `targetPath` or any
    /// other error still fails the reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// With `targetPath`: put the value at the path as is, without reading commas,
    /// brackets, dots or equal signs in it as Helm `--set` syntax (like `--set-literal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<bool>,
}

/// The kinds a [`ValuesReference`] may name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ValuesReferenceKind {
    /// A Secret; its `data` is base64-decoded first.
    #[default]
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// One applied object, as recorded in an inventory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceRef {
    /// The object's identity, `<namespace>_<name>_<group>_<kind>` (namespace empty for
    /// cluster-scoped objects).
    pub id: String,
    /// The API version the object was applied with.
    pub v: String,
}

/// The objects a reconciler applied and therefore owns (and may prune).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceInventory {
    /// The applied objects.
    pub entries: Vec<ResourceRef>,
}

/// JSON pointers to leave alone during drift detection and apply, for the selected objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IgnoreRule {
    /// RFC 6901 JSON pointers into the objects, such as `/spec/replicas`.
    pub paths: Vec<String>,
    /// The objects the rule applies to; every managed object when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// A record of how one revision (by digest) was reconciled over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// `<algorithm>:<hex>` checksum of the objects applied for this revision.
    pub digest: String,
    /// When this revision was reconciled for the first time.
    pub first_reconciled: Time,
    /// When this revision was reconciled most recently.
    pub last_reconciled: Time,
    /// How long the most recent reconciliation of this revision took (Go duration string).
    pub last_reconciled_duration: String,
    /// The outcome of the most recent reconciliation, for example `ReconciliationSucceeded`.
    pub last_reconciled_status: String,
    /// How many times this revision has been reconciled.
    pub total_reconciliations: i64,
    /// Extra facts about the revision, such as its `revision` and `originRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}
