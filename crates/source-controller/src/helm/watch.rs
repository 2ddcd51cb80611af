//! Which HelmCharts a source change concerns (Flux's `requestsForHelmRepositoryChange`
//! and friends): a chart is enqueued when its source's artifact revision differs from its
//! `observedSourceArtifactRevision`.

use ferroflux_api::source::v1::{HelmChart, HelmChartSourceKind};
use ferroflux_runtime::watches::{ArtifactSource, refers_to};
use kube::ResourceExt;

/// Whether a HelmChart reading sources of `kind` wants the new `revision` of `source`.
pub fn wants<S: ArtifactSource>(
    kind: HelmChartSourceKind,
) -> impl Fn(&HelmChart, &S, &str) -> bool + Send + Sync + 'static {
    move |chart, source, revision| {
        chart.spec.source_ref.kind == kind
            && refers_to(
                source,
                &chart.spec.source_ref.name,
                None,
                &chart.namespace().unwrap_or_default(),
            )
            && chart
                .status
                .as_ref()
                .and_then(|s| s.observed_source_artifact_revision.as_deref())
                != Some(revision)
    }
}
