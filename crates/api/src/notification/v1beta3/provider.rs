//! Provider: where and how notifications are delivered.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;

/// A destination for notifications (chat, incident tool, Git commit status, generic
/// webhook, ...) with the address and credentials to reach it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Provider",
    plural = "providers",
    namespaced,
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    doc = "Provider is a destination that Alerts send notifications to."
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
    "rule": "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)"
}]))]
pub struct ProviderSpec {
    /// The kind of destination, which decides the payload and the protocol.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// Not used by this API version; accepted so that older manifests still apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// The channel, room or chat to post to, for destinations that have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub channel: Option<String>,
    /// The name to post as, for destinations that allow choosing one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub username: Option<String>,
    /// Where to deliver: a webhook or API URL for most types, the repository URL for
    /// Git types, a project or topic for some others. An `address` key in the Secret
    /// wins over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub address: Option<String>,
    /// How long one delivery may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// An HTTP(S) proxy to deliver through. Deprecated: use `proxySecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^(http|https)://.*$"))]
    pub proxy: Option<String>,
    /// A Secret with the proxy `address`, and optionally `username` and `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// A Secret with the credentials of the destination: `token`, `username` and
    /// `password`, `headers`, `address` or keys specific to the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// A ServiceAccount whose workload identity authenticates to the cloud service
    /// (azureeventhub, azuredevops, googlepubsub) instead of static credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// A Secret with TLS material: `ca.crt` to trust the server, `tls.crt` and `tls.key`
    /// to authenticate the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Stops delivering notifications while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// A CEL expression over `event`, `provider` and `alert` that yields the commit
    /// status key (context); Git commit status types only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_status_expr: Option<String>,
}

/// The kinds of notification destinations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    /// A Slack channel, by bot token or incoming webhook.
    Slack,
    /// A Discord channel webhook.
    Discord,
    /// A Microsoft Teams workflow or incoming webhook.
    Msteams,
    /// A Rocket.Chat incoming webhook.
    Rocket,
    /// An HTTP POST of the event as JSON.
    #[default]
    Generic,
    /// An HTTP POST of the event as JSON, signed with HMAC in `X-Signature`.
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// GitHub commit statuses.
    Github,
    /// GitLab commit statuses.
    Gitlab,
    /// Gitea commit statuses.
    Gitea,
    /// Gitea pull request comments.
    Giteapullrequestcomment,
    /// Bitbucket Server / Data Center build statuses.
    Bitbucketserver,
    /// Bitbucket Cloud build statuses.
    Bitbucket,
    /// Azure DevOps commit statuses.
    Azuredevops,
    /// A Google Chat space webhook.
    Googlechat,
    /// A Google Cloud Pub/Sub topic.
    Googlepubsub,
    /// A Webex room.
    Webex,
    /// Sentry events.
    Sentry,
    /// An Azure Event Hub.
    Azureeventhub,
    /// A Telegram chat.
    Telegram,
    /// A Lark chat webhook.
    Lark,
    /// A Matrix room.
    Matrix,
    /// Opsgenie alerts.
    Opsgenie,
    /// Prometheus Alertmanager alerts.
    Alertmanager,
    /// Grafana annotations.
    Grafana,
    /// GitHub repository_dispatch events.
    Githubdispatch,
    /// GitHub pull request comments.
    Githubpullrequestcomment,
    /// GitLab merge request comments.
    Gitlabmergerequestcomment,
    /// PagerDuty events.
    Pagerduty,
    /// Datadog events.
    Datadog,
    /// A NATS subject.
    Nats,
    /// A Zulip stream.
    Zulip,
    /// OpenTelemetry traces.
    Otel,
    /// A Zoom chat webhook.
    Zoom,
    /// incident.io alerts.
    #[serde(rename = "incident.io")]
    IncidentIo,
}
