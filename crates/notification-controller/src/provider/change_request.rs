//! Change-request comments: `githubpullrequestcomment`, `gitlabmergerequestcomment` and
//! `giteapullrequestcomment`.
//!
//! One comment per provider and object on the pull/merge request named by the event's
//! `change_request` metadata, found again by a hidden marker among the comments of the
//! authenticated user, and edited rather than repeated.

use std::fmt::Write as _;

use ferroflux_api::notification::v1beta3::ProviderType;
use ferroflux_runtime::events::FluxEvent;
use serde_json::{Value, json};

use super::commit_status::{github_api, github_headers, parse_git_address};
use super::{
    Method, OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, kind, name, namespace,
};

/// The metadata key naming the pull/merge request.
pub const CHANGE_REQUEST_KEY: &str = "change_request";

/// Find our comment, then edit it or create it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Who the token belongs to.
    pub whoami: OutgoingRequest,
    /// The field of the `whoami` answer holding the login.
    pub login_field: &'static str,
    /// The comments of the change request.
    pub list: OutgoingRequest,
    /// Where a comment's author login is (`user.login`, `author.username`).
    pub author_path: [&'static str; 2],
    /// The hidden marker identifying our comment.
    pub marker: String,
    /// Creates the comment.
    pub create: OutgoingRequest,
    /// Edits it; `{id}` in the URL is replaced with the comment id.
    pub update: OutgoingRequest,
}

impl Plan {
    /// The id of our comment in the `list` answer, if any.
    pub fn find(&self, login: &str, comments: &Value) -> Option<String> {
        comments.as_array()?.iter().find_map(|c| {
            let author = c
                .get(self.author_path[0])?
                .get(self.author_path[1])?
                .as_str()?;
            let body = c.get("body")?.as_str()?;
            (author == login && body.contains(&self.marker)).then(|| match c.get("id") {
                Some(Value::String(id)) => id.clone(),
                Some(id) => id.to_string(),
                None => String::new(),
            })
        })
    }
}

/// Flux's comment text: marker, heading, object, message and sorted metadata.
fn comment_body(marker: &str, event: &FluxEvent) -> String {
    let emoji = if event.severity == "error" {
        "⚠️"
    } else {
        "ℹ️"
    };
    let mut metadata = String::new();
    for (key, value) in event
        .metadata
        .iter()
        .filter(|(k, _)| *k != CHANGE_REQUEST_KEY)
    {
        let _ = writeln!(metadata, "* `{key}`: {value}");
    }
    format!(
        "{marker}\n\n## Flux Status\n\n{emoji} {}/{}/{}\n\n{}\n\nMetadata:\n{metadata}",
        kind(event),
        namespace(event),
        name(event),
        event.message
    )
}

fn marker(prefix: &str, config: &ProviderConfig, event: &FluxEvent) -> String {
    format!(
        "<!-- {prefix}:{}/{}/{}/{} -->",
        config.uid,
        kind(event),
        namespace(event),
        name(event)
    )
}

fn request(
    method: Method,
    url: String,
    headers: &[(String, String)],
    body: Option<&Value>,
) -> OutgoingRequest {
    let mut headers = headers.to_vec();
    if body.is_some() {
        headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    OutgoingRequest {
        method,
        url,
        headers,
        body: body
            .map(|b| serde_json::to_vec(b).expect("JSON values always serialize"))
            .unwrap_or_default(),
        check: ResponseCheck::Success,
    }
}

fn token(config: &ProviderConfig) -> &str {
    if config.token.is_empty() {
        &config.password
    } else {
        &config.token
    }
}

/// The comment plan for `event`.
pub fn plan(event: &FluxEvent, config: &ProviderConfig) -> Result<Plan, PayloadError> {
    if config.uid.is_empty() {
        return Err(PayloadError::Invalid(
            "provider UID cannot be empty".to_owned(),
        ));
    }
    let number = event.metadata.get(CHANGE_REQUEST_KEY).ok_or_else(|| {
        PayloadError::Invalid(format!("missing {CHANGE_REQUEST_KEY:?} metadata key"))
    })?;
    let number: u64 = number.parse().map_err(|_| {
        PayloadError::Invalid(format!(
            "invalid {CHANGE_REQUEST_KEY:?} metadata value {number:?}"
        ))
    })?;
    match config.type_ {
        ProviderType::Githubpullrequestcomment => github(event, config, number),
        ProviderType::Gitlabmergerequestcomment => gitlab(event, config, number),
        ProviderType::Giteapullrequestcomment => gitea(event, config, number),
        other => Err(PayloadError::Unsupported(super::type_name(other))),
    }
}

fn github(event: &FluxEvent, config: &ProviderConfig, number: u64) -> Result<Plan, PayloadError> {
    let (base, owner, repo) = github_api(config)?;
    let headers: Vec<(String, String)> = github_headers(config)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let marker = marker("flux-pr-comment-key", config, event);
    let body = json!({"body": comment_body(&marker, event)});
    let issue = format!("{base}repos/{owner}/{repo}/issues");
    Ok(Plan {
        whoami: request(Method::Get, format!("{base}user"), &headers, None),
        login_field: "login",
        list: request(
            Method::Get,
            format!("{issue}/{number}/comments?direction=asc&per_page=100&sort=created"),
            &headers,
            None,
        ),
        author_path: ["user", "login"],
        create: request(
            Method::Post,
            format!("{issue}/{number}/comments"),
            &headers,
            Some(&body),
        ),
        update: request(
            Method::Patch,
            format!("{issue}/comments/{{id}}"),
            &headers,
            Some(&body),
        ),
        marker,
    })
}

fn gitlab(event: &FluxEvent, config: &ProviderConfig, number: u64) -> Result<Plan, PayloadError> {
    let token = token(config);
    if token.is_empty() {
        return Err(PayloadError::Invalid(
            "gitlab token cannot be empty".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let headers = vec![("PRIVATE-TOKEN".to_owned(), token.to_owned())];
    let marker = marker("flux-mr-comment-key", config, event);
    let body = json!({"body": comment_body(&marker, event)});
    let notes = format!(
        "{host}/api/v4/projects/{}/merge_requests/{number}/notes",
        super::path_escape(&id)
    );
    Ok(Plan {
        whoami: request(Method::Get, format!("{host}/api/v4/user"), &headers, None),
        login_field: "username",
        list: request(
            Method::Get,
            format!("{notes}?order_by=created_at&per_page=100&sort=asc"),
            &headers,
            None,
        ),
        author_path: ["author", "username"],
        create: request(Method::Post, notes.clone(), &headers, Some(&body)),
        update: request(
            Method::Put,
            format!("{notes}/{{id}}"),
            &headers,
            Some(&body),
        ),
        marker,
    })
}

fn gitea(event: &FluxEvent, config: &ProviderConfig, number: u64) -> Result<Plan, PayloadError> {
    let token = token(config);
    if token.is_empty() {
        return Err(PayloadError::Invalid(
            "gitea token cannot be empty".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let [owner, repo] = id.split('/').collect::<Vec<_>>()[..] else {
        return Err(PayloadError::Invalid(format!(
            "invalid repository id {id:?}"
        )));
    };
    let headers = vec![("Authorization".to_owned(), format!("token {token}"))];
    let marker = marker("flux-pr-comment-key", config, event);
    let body = json!({"body": comment_body(&marker, event)});
    let issues = format!("{host}/api/v1/repos/{owner}/{repo}/issues");
    Ok(Plan {
        whoami: request(Method::Get, format!("{host}/api/v1/user"), &headers, None),
        login_field: "login",
        list: request(
            Method::Get,
            format!("{issues}/{number}/comments?page=1&limit=100"),
            &headers,
            None,
        ),
        author_path: ["user", "login"],
        create: request(
            Method::Post,
            format!("{issues}/{number}/comments"),
            &headers,
            Some(&body),
        ),
        update: request(
            Method::Patch,
            format!("{issues}/comments/{{id}}"),
            &headers,
            Some(&body),
        ),
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_comment_by_author_and_marker() {
        let mut event = crate::event::test_event("info", &[("change_request", "7")]);
        event
            .metadata
            .insert("revision".to_owned(), "main@sha1:1".to_owned());
        let config = ProviderConfig {
            type_: ProviderType::Githubpullrequestcomment,
            uid: "uid-1".to_owned(),
            address: "https://github.com/org/app".to_owned(),
            token: "t".to_owned(),
            ..ProviderConfig::default()
        };
        let plan = plan(&event, &config).unwrap();
        assert_eq!(
            plan.marker,
            "<!-- flux-pr-comment-key:uid-1/Kustomization/apps/webapp -->"
        );
        let body: Value = serde_json::from_slice(&plan.create.body).unwrap();
        assert_eq!(
            body["body"],
            "<!-- flux-pr-comment-key:uid-1/Kustomization/apps/webapp -->\n\n## Flux Status\n\nℹ️ Kustomization/apps/webapp\n\nDeployment/apps/webapp configured\n\nMetadata:\n* `revision`: main@sha1:1\n"
        );
        let comments = json!([
            {"id": 1, "user": {"login": "someone"}, "body": plan.marker},
            {"id": 2, "user": {"login": "flux-bot"}, "body": "unrelated"},
            {"id": 3, "user": {"login": "flux-bot"}, "body": format!("{}\nold", plan.marker)},
        ]);
        assert_eq!(plan.find("flux-bot", &comments).as_deref(), Some("3"));
        assert_eq!(plan.find("other", &comments), None);
        event
            .metadata
            .insert("change_request".to_owned(), "x".to_owned());
        assert!(super::plan(&event, &config).is_err());
    }
}
