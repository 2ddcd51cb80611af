//! Prometheus metrics with Flux's and controller-runtime's names.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of `gotk_reconcile_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    /// The object's kind.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// The object's namespace.
    pub namespace: String,
}

/// Labels of the controller-runtime reconcile counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// The controller, e.g. `gitrepository`.
    pub controller: String,
    /// `success`, `error`, `requeue` or `requeue_after`.
    pub result: String,
}

/// Labels carrying only the controller name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    /// The controller, e.g. `gitrepository`.
    pub controller: String,
}

fn duration_histogram() -> Histogram {
    // Flux: ExponentialBucketsRange(10ms, 1800s, 10).
    let (min, max, count) = (0.01f64, 1800f64, 10);
    let factor = (max / min).powf(1.0 / f64::from(count - 1));
    Histogram::new((0..count).map(move |i| min * factor.powi(i)))
}

fn controller_runtime_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8,
        0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0,
        15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0,
    ])
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// A controller's metrics and the registry that exposes them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    reconcile_duration: HistogramFamily<ObjectLabels>,
    reconcile_total: Family<ResultLabels, Counter>,
    reconcile_errors: Family<ControllerLabels, Counter>,
    reconcile_time: HistogramFamily<ControllerLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let reconcile_duration: HistogramFamily<ObjectLabels> =
            Family::new_with_constructor(duration_histogram);
        let reconcile_total = Family::<ResultLabels, Counter>::default();
        let reconcile_errors = Family::<ControllerLabels, Counter>::default();
        let reconcile_time: HistogramFamily<ControllerLabels> =
            Family::new_with_constructor(controller_runtime_histogram);
        registry.register(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            reconcile_duration.clone(),
        );
        // prometheus-client appends `_total` to counters itself.
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            reconcile_total.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            reconcile_errors.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            reconcile_time.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            reconcile_duration,
            reconcile_total,
            reconcile_errors,
            reconcile_time,
        }
    }

    /// Records the duration of one reconciliation of an object.
    pub fn observe_reconcile(&self, kind: &str, name: &str, namespace: &str, elapsed: Duration) {
        self.reconcile_duration
            .get_or_create(&ObjectLabels {
                kind: kind.to_owned(),
                name: name.to_owned(),
                namespace: namespace.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Forgets an object's series once it is deleted.
    pub fn forget(&self, kind: &str, name: &str, namespace: &str) {
        self.reconcile_duration.remove(&ObjectLabels {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        });
    }

    /// Records the result of one reconcile call for controller-runtime's counters.
    pub fn observe_result(&self, controller: &str, result: &str, elapsed: Duration) {
        self.reconcile_total
            .get_or_create(&ResultLabels {
                controller: controller.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        let labels = ControllerLabels {
            controller: controller.to_owned(),
        };
        if result == "error" {
            self.reconcile_errors.get_or_create(&labels).inc();
        }
        self.reconcile_time
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Registers an extra metric family (controllers add their own).
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.registry
            .lock()
            .expect("registry lock is never poisoned")
            .register(name, help, metric);
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .expect("registry lock is never poisoned");
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_flux_metric_names() {
        let metrics = Metrics::new();
        metrics.observe_reconcile(
            "GitRepository",
            "podinfo",
            "flux-system",
            Duration::from_millis(42),
        );
        metrics.observe_result("gitrepository", "success", Duration::from_millis(42));
        let text = metrics.encode();
        assert!(text.contains(
            "gotk_reconcile_duration_seconds_count{kind=\"GitRepository\",name=\"podinfo\",namespace=\"flux-system\"} 1"
        ), "{text}");
        assert!(text.contains("controller_runtime_reconcile_total{controller=\"gitrepository\",result=\"success\"} 1"), "{text}");
        metrics.forget("GitRepository", "podinfo", "flux-system");
        assert!(!metrics.encode().contains("name=\"podinfo\""));
    }

    #[test]
    fn buckets_span_ten_milliseconds_to_half_an_hour() {
        let metrics = Metrics::new();
        metrics.observe_reconcile("K", "n", "ns", Duration::from_secs(1));
        let text = metrics.encode();
        assert!(text.contains("le=\"0.01\""), "{text}");
        assert!(
            text.contains("le=\"1800.0000000000002\"")
                || text.contains("le=\"1800.0\"")
                || text.contains("le=\"1799.99"),
            "{text}"
        );
    }
}
