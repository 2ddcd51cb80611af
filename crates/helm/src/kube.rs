//! Kubernetes version handling: `--kube-version` parsing, Helm's default capabilities
//! and `kubeVersion` constraint checks.

/// The API versions Helm v3.19 reports by default (client-go's scheme).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// A parsed Kubernetes version (`v1.34.0`, major `1`, minor `34`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    /// `v` + major.minor.patch
    pub version: String,
    /// Major number.
    pub major: String,
    /// Minor number.
    pub minor: String,
}

/// The version a released helm v3.19 reports without `--kube-version`: its Makefile links
/// `chartutil.k8sVersionMajor/Minor` from the client-go module (v0.34 -> 1.34).
impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            version: "v1.34.0".to_owned(),
            major: "1".to_owned(),
            minor: "34".to_owned(),
        }
    }
}

/// `chartutil.ParseKubeVersion` (k8s `ParseGeneric`): `[v]major.minor[.patch][-pre][+meta]`.
pub fn parse_kube_version(text: &str) -> Result<KubeVersion, String> {
    let body = text.trim().strip_prefix('v').unwrap_or(text.trim());
    let core_end = body.find(['-', '+']).unwrap_or(body.len());
    let parts: Vec<&str> = body[..core_end].split('.').collect();
    if parts.len() < 2
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("could not parse {text:?} as version"));
    }
    let number = |p: &str| p.parse::<u64>().map_err(|e| e.to_string());
    let (major, minor) = (number(parts[0])?, number(parts[1])?);
    let patch = parts.get(2).map_or(Ok(0), |p| number(p))?;
    Ok(KubeVersion {
        version: format!("v{major}.{minor}.{patch}{}", &body[core_end..]),
        major: major.to_string(),
        minor: minor.to_string(),
    })
}

/// `chartutil.IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Ok(version) = ferroflux_semver::Version::parse(version) else {
        return false;
    };
    let Ok(constraints) = ferroflux_semver::Constraints::parse(constraint) else {
        return false;
    };
    constraints.check(&version)
}
