//! Commit-status providers: GitHub, GitLab, Gitea, Bitbucket Cloud, Bitbucket Server and
//! Azure DevOps.
//!
//! Each one lists the statuses already set on the event's commit and posts a new one only
//! when it differs, as Flux's notifiers do. The API base URL comes from the Provider
//! address (`https://github.com/org/repo` → `https://api.github.com/`, any other host →
//! `<host>/api/v3/`), so a loopback address reaches a loopback server.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ferroflux_runtime::events::FluxEvent;
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};

use super::{
    Method, OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, kind, name,
    split_camel_case,
};
use ferroflux_api::notification::v1beta3::ProviderType;

/// The reason controllers give while work is under way; most providers skip it.
const PROGRESSING: &str = "Progressing";

/// Which API answered the list request, and so how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StatusApi {
    /// `[{context, state, description}]`, first entry with our context decides.
    GitHub,
    /// `[{sha, status, name, description}]`.
    GitLab,
    /// `{key, state, name, description}`, 404 when none.
    Bitbucket,
    /// `{key, state, name, description}`, 404 when none.
    BitbucketServer,
    /// `{value: [{context: {name, genre}, state, description}]}`.
    AzureDevOps,
}

/// The status we want on the commit, compared with what the list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Wanted {
    /// The status id (GitHub/Gitea context, GitLab name, Bitbucket key, Azure name).
    pub id: String,
    /// The state in the service's vocabulary.
    pub state: String,
    /// The description (the reason in lower-case words).
    pub description: String,
    /// The display name (Bitbucket) or commit SHA (GitLab).
    pub name: String,
    /// The Azure DevOps genre.
    pub genre: String,
}

/// List the commit's statuses, then create ours unless it is already there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// How to read the list answer.
    pub api: StatusApi,
    /// The GET request listing the existing statuses.
    pub list: OutgoingRequest,
    /// The status we want.
    pub wanted: Wanted,
    /// The request that creates it.
    pub create: OutgoingRequest,
}

impl Plan {
    /// Whether `body` (the list answer, `None` on 404) already holds the wanted status.
    pub fn is_duplicate(&self, body: Option<&Value>) -> bool {
        let Some(body) = body else { return false };
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let w = &self.wanted;
        match self.api {
            StatusApi::GitHub => first_with_context(body.as_array(), |s| {
                let (context, state, description) = (
                    text(s, "context")?,
                    text(s, "state")?,
                    text(s, "description")?,
                );
                if context.is_empty() || state.is_empty() || description.is_empty() {
                    return None;
                }
                (context == w.id).then_some(state == w.state && description == w.description)
            }),
            StatusApi::GitLab => body.as_array().into_iter().flatten().any(|s| {
                text(s, "sha").as_deref() == Some(w.name.as_str())
                    && text(s, "status").as_deref() == Some(w.state.as_str())
                    && text(s, "description").as_deref() == Some(w.description.as_str())
                    && text(s, "name").as_deref() == Some(w.id.as_str())
            }),
            StatusApi::Bitbucket => {
                text(body, "state").as_deref() == Some(w.state.as_str())
                    && text(body, "description").unwrap_or_default() == w.description
            }
            StatusApi::BitbucketServer => {
                text(body, "key").as_deref() == Some(w.id.as_str())
                    && text(body, "state").as_deref() == Some(w.state.as_str())
                    && text(body, "description").unwrap_or_default() == w.description
                    && text(body, "name").unwrap_or_default() == w.name
            }
            StatusApi::AzureDevOps => {
                first_with_context(body.get("value").and_then(Value::as_array), |s| {
                    let context = s.get("context")?;
                    let (name, genre) = (text(context, "name")?, text(context, "genre")?);
                    let (state, description) = (text(s, "state")?, text(s, "description")?);
                    (name == w.id && genre == w.genre)
                        .then_some(state == w.state && description == w.description)
                })
            }
        }
    }
}

/// Walks the statuses in order; `decide` returns `None` to skip an entry, `Some(dup)` to
/// stop at the first entry with our id.
fn first_with_context(
    statuses: Option<&Vec<Value>>,
    decide: impl Fn(&Value) -> Option<bool>,
) -> bool {
    statuses
        .into_iter()
        .flatten()
        .find_map(decide)
        .unwrap_or(false)
}

/// Flux's default status id: `<kind>/<name>/<first UID segment>`, lower-cased.
pub fn default_id(provider_uid: &str, event: &FluxEvent) -> String {
    let uid = provider_uid.split('-').next().unwrap_or_default();
    format!("{}/{}/{uid}", kind(event), name(event)).to_lowercase()
}

/// The commit SHA in a revision (`main@sha1:<hex>`, `sha256:<hex>`, `main/<hex>`, `<hex>`).
pub fn commit_sha(revision: &str) -> Result<String, PayloadError> {
    let hash = match (revision.rfind(':'), revision.rsplit_once('/')) {
        (Some(i), _) => &revision[i + 1..],
        (None, Some((_, last))) => last,
        (None, None) => revision,
    };
    if matches!(hash.len(), 40 | 64) && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_owned())
    } else {
        Err(PayloadError::Invalid(format!(
            "failed to extract commit hash from '{revision}' revision"
        )))
    }
}

/// `(scheme://host[:port], repository id)` of a Git address, `ssh` read as `https`.
pub fn parse_git_address(address: &str) -> Result<(String, String), PayloadError> {
    let address = address.trim();
    let invalid =
        || PayloadError::Invalid("failed parsing the provider address as a Git URL".to_owned());
    let Some((scheme, rest)) = address.split_once("://") else {
        // scp-like: user@host:path
        let (host, path) = address.split_once(':').ok_or_else(invalid)?;
        let host = host.rsplit('@').next().unwrap_or(host);
        return Ok((format!("https://{host}"), repo_id(path)));
    };
    let scheme = if scheme == "ssh" { "https" } else { scheme };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() {
        return Err(invalid());
    }
    Ok((format!("{scheme}://{host}"), repo_id(path)))
}

fn repo_id(path: &str) -> String {
    let id = path.trim_start_matches('/');
    id.strip_suffix(".git").unwrap_or(id).to_owned()
}

fn owner_repo(id: &str) -> Result<(&str, &str), PayloadError> {
    match id.split('/').collect::<Vec<_>>()[..] {
        [owner, repo] => Ok((owner, repo)),
        _ => Err(PayloadError::Invalid(format!(
            "invalid repository id '{id}'"
        ))),
    }
}

/// The reason in lower-case words, Flux's status description.
pub fn description(event: &FluxEvent) -> String {
    split_camel_case(&event.reason).join(" ").to_lowercase()
}

fn state(
    event: &FluxEvent,
    service: &str,
    info: &str,
    error: &str,
) -> Result<String, PayloadError> {
    match event.severity.as_str() {
        "info" => Ok(info.to_owned()),
        "error" => Ok(error.to_owned()),
        _ => Err(PayloadError::Invalid(format!(
            "can't convert to {service} state"
        ))),
    }
}

fn token_or_password(config: &ProviderConfig) -> &str {
    if config.token.is_empty() {
        &config.password
    } else {
        &config.token
    }
}

fn request(
    method: Method,
    url: String,
    headers: &[(&str, String)],
    body: Option<&Value>,
) -> OutgoingRequest {
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    if body.is_some() {
        all.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    OutgoingRequest {
        method,
        url,
        headers: all,
        body: body
            .map(|b| serde_json::to_vec(b).expect("JSON values always serialize"))
            .unwrap_or_default(),
        check: ResponseCheck::Success,
    }
}

/// The commit-status plan for `event`; `None` when Flux skips the event (`Progressing`,
/// except for Gitea which reports it as pending).
pub fn plan(event: &FluxEvent, config: &ProviderConfig) -> Result<Option<Plan>, PayloadError> {
    if event.reason == PROGRESSING && config.type_ != ProviderType::Gitea {
        return Ok(None);
    }
    if config.commit_status.is_empty() {
        return Err(PayloadError::Invalid(
            "commit status cannot be empty".to_owned(),
        ));
    }
    let revision = event
        .metadata
        .get("revision")
        .ok_or_else(|| PayloadError::Invalid("missing revision metadata".to_owned()))?;
    let sha = commit_sha(revision)?;
    let plan = match config.type_ {
        ProviderType::Github => github(event, config, &sha)?,
        ProviderType::Gitlab => gitlab(event, config, &sha)?,
        ProviderType::Gitea => gitea(event, config, &sha)?,
        ProviderType::Bitbucket => bitbucket(event, config, &sha)?,
        ProviderType::Bitbucketserver => bitbucket_server(event, config, &sha)?,
        ProviderType::Azuredevops => azure_devops(event, config, &sha)?,
        other => return Err(PayloadError::Unsupported(super::type_name(other))),
    };
    Ok(Some(plan))
}

/// The GitHub REST base URL for a Provider address, with the `owner/repo` it names.
pub fn github_api(config: &ProviderConfig) -> Result<(String, String, String), PayloadError> {
    let token = token_or_password(config);
    if token.is_empty() {
        return Err(PayloadError::Invalid(
            "github token or github app details must be specified".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let (owner, repo) = owner_repo(&id)
        .map_err(|_| PayloadError::Invalid(format!("invalid repository id: '{id}'")))?;
    let base = if host.ends_with("://github.com") {
        "https://api.github.com/".to_owned()
    } else {
        format!("{host}/api/v3/")
    };
    Ok((base, owner.to_owned(), repo.to_owned()))
}

/// The headers go-github sends.
pub fn github_headers(config: &ProviderConfig) -> Vec<(&'static str, String)> {
    vec![
        (
            "Authorization",
            format!("Bearer {}", token_or_password(config)),
        ),
        ("Accept", "application/vnd.github.v3+json".to_owned()),
        ("X-GitHub-Api-Version", "2022-11-28".to_owned()),
        ("User-Agent", "go-github/v64.0.0".to_owned()),
    ]
}

fn github(event: &FluxEvent, config: &ProviderConfig, sha: &str) -> Result<Plan, PayloadError> {
    let (base, owner, repo) = github_api(config)?;
    let state = state(event, "github", "success", "failure")?;
    let description = description(event);
    let headers = github_headers(config);
    let body = json!({"state": state, "description": description, "context": config.commit_status});
    Ok(Plan {
        api: StatusApi::GitHub,
        list: request(
            Method::Get,
            format!("{base}repos/{owner}/{repo}/commits/{sha}/statuses?per_page=50"),
            &headers,
            None,
        ),
        create: request(
            Method::Post,
            format!("{base}repos/{owner}/{repo}/statuses/{sha}"),
            &headers,
            Some(&body),
        ),
        wanted: Wanted {
            id: config.commit_status.clone(),
            state,
            description,
            ..Wanted::default()
        },
    })
}

fn gitlab(event: &FluxEvent, config: &ProviderConfig, sha: &str) -> Result<Plan, PayloadError> {
    let token = token_or_password(config);
    if token.is_empty() {
        return Err(PayloadError::Invalid(
            "gitlab token cannot be empty".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let project = super::path_escape(&id);
    let state = state(event, "gitlab", "success", "failed")?;
    let description = description(event);
    let headers = [("PRIVATE-TOKEN", token.to_owned())];
    let base = format!("{host}/api/v4/projects/{project}");
    let body = json!({"state": state, "name": config.commit_status, "description": description});
    Ok(Plan {
        api: StatusApi::GitLab,
        list: request(
            Method::Get,
            format!(
                "{base}/repository/commits/{sha}/statuses?name={}",
                super::query_escape(&config.commit_status)
            ),
            &headers,
            None,
        ),
        create: request(
            Method::Post,
            format!("{base}/statuses/{sha}"),
            &headers,
            Some(&body),
        ),
        wanted: Wanted {
            id: config.commit_status.clone(),
            state,
            description,
            name: sha.to_owned(),
            genre: String::new(),
        },
    })
}

fn gitea(event: &FluxEvent, config: &ProviderConfig, sha: &str) -> Result<Plan, PayloadError> {
    let token = token_or_password(config);
    if token.is_empty() {
        return Err(PayloadError::Invalid(
            "gitea token cannot be empty".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let (owner, repo) = owner_repo(&id)?;
    let state = if event.reason == PROGRESSING {
        "pending".to_owned()
    } else {
        state(event, "gitea", "success", "failure")?
    };
    let description = description(event);
    let headers = [("Authorization", format!("token {token}"))];
    let base = format!("{host}/api/v1/repos/{owner}/{repo}/statuses/{sha}");
    let body = json!({"state": state, "target_url": "", "description": description, "context": config.commit_status});
    Ok(Plan {
        api: StatusApi::GitHub,
        list: request(
            Method::Get,
            format!("{base}?page=1&limit=50"),
            &headers,
            None,
        ),
        create: request(Method::Post, base, &headers, Some(&body)),
        wanted: Wanted {
            id: config.commit_status.clone(),
            state,
            description,
            ..Wanted::default()
        },
    })
}

/// Bitbucket Cloud's API base: `BITBUCKET_API_BASE_URL` (as the Go client reads it), else
/// `https://api.bitbucket.org/2.0`.
fn bitbucket_api_base() -> String {
    std::env::var("BITBUCKET_API_BASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://api.bitbucket.org/2.0".to_owned())
}

fn bitbucket(event: &FluxEvent, config: &ProviderConfig, sha: &str) -> Result<Plan, PayloadError> {
    if config.token.is_empty() {
        return Err(PayloadError::Invalid(
            "bitbucket token cannot be empty".to_owned(),
        ));
    }
    let (_, id) = parse_git_address(&config.address)?;
    let Some((username, password)) = config
        .token
        .split_once(':')
        .filter(|(_, p)| !p.contains(':'))
    else {
        return Err(PayloadError::Invalid(
            "invalid token format, expected to be <user>:<password>".to_owned(),
        ));
    };
    let (owner, repo) = owner_repo(&id)?;
    let state = state(event, "bitbucket", "SUCCESSFUL", "FAILED")?;
    let description = description(event);
    let display = format!("{}/{}", kind(event), name(event)).to_lowercase();
    let key = hex::encode(Sha1::digest(config.commit_status.as_bytes()));
    let headers = [(
        "Authorization",
        format!(
            "Basic {}",
            STANDARD.encode(format!("{username}:{password}"))
        ),
    )];
    let base = format!(
        "{}/repositories/{owner}/{repo}/commit/{sha}/statuses/build",
        bitbucket_api_base()
    );
    let body = json!({"key": key, "url": "https://bitbucket.org", "state": state, "name": display, "description": description});
    let mut list = request(Method::Get, format!("{base}/{key}"), &headers, None);
    list.check = ResponseCheck::NotFoundOk;
    Ok(Plan {
        api: StatusApi::Bitbucket,
        list,
        create: request(Method::Post, base, &headers, Some(&body)),
        wanted: Wanted {
            id: key,
            state,
            description,
            name: display,
            genre: String::new(),
        },
    })
}

fn bitbucket_server(
    event: &FluxEvent,
    config: &ProviderConfig,
    sha: &str,
) -> Result<Plan, PayloadError> {
    let url = reqwest::Url::parse(config.address.trim())
        .map_err(|e| PayloadError::Invalid(format!("could not parse git address: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PayloadError::Invalid(format!(
            "could not parse git address: unsupported scheme type in address: {}. Must be http or https",
            url.scheme()
        )));
    }
    let path = url.path().strip_suffix(".git").unwrap_or(url.path());
    let Some(index) = path.rfind("/scm/") else {
        return Err(PayloadError::Invalid(
            "could not parse git address: supplied provider address is not http(s) git clone url"
                .to_owned(),
        ));
    };
    let (context, id) = (&path[..index], &path[index + 5..]);
    let (project, repo) = owner_repo(id).map_err(|_| {
        PayloadError::Invalid(format!(
            "could not parse git address: invalid repository id \"{id}\""
        ))
    })?;
    let authorization = if !config.token.is_empty() {
        format!("Bearer {}", config.token)
    } else if !config.username.is_empty() && !config.password.is_empty() {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", config.username, config.password))
        )
    } else {
        return Err(PayloadError::Invalid(
            "invalid credentials, expected to be one of username/password or API Token".to_owned(),
        ));
    };
    let state = state(event, "bitbucket server", "SUCCESSFUL", "FAILED")?;
    let description = description(event);
    let display = format!("{}/{}", kind(event), name(event)).to_lowercase();
    let display = format!("{display} [{description}]");
    let key = hex::encode(Sha1::digest(config.commit_status.as_bytes()));
    let origin = super::origin(&url);
    let builds = format!(
        "{origin}{context}/rest/api/latest/projects/{project}/repos/{repo}/commits/{sha}/builds"
    );
    let headers = [
        ("Authorization", authorization),
        ("x-atlassian-token", "no-check".to_owned()),
        ("x-requested-with", "XMLHttpRequest".to_owned()),
    ];
    let body = json!({"description": description, "key": key, "name": display, "state": state, "url": config.address});
    let mut list = request(Method::Get, format!("{builds}?key={key}"), &headers, None);
    list.check = ResponseCheck::NotFoundOk;
    Ok(Plan {
        api: StatusApi::BitbucketServer,
        list,
        create: request(Method::Post, builds, &headers, Some(&body)),
        wanted: Wanted {
            id: key,
            state,
            description,
            name: display,
            genre: String::new(),
        },
    })
}

fn azure_devops(
    event: &FluxEvent,
    config: &ProviderConfig,
    sha: &str,
) -> Result<Plan, PayloadError> {
    if config.token.is_empty() {
        return Err(PayloadError::Invalid(
            "azure devops token cannot be empty (workload identity is not supported)".to_owned(),
        ));
    }
    let (host, id) = parse_git_address(&config.address)?;
    let [organization, project, _, repo] = id.split('/').collect::<Vec<_>>()[..] else {
        return Err(PayloadError::Invalid(format!(
            "invalid repository id \"{id}\""
        )));
    };
    let state = state(event, "azure devops", "succeeded", "error")?;
    let description = description(event);
    let genre = event.metadata.get("summary").map_or_else(
        || "fluxcd".to_owned(),
        |summary| format!("fluxcd:{summary}"),
    );
    let headers = [(
        "Authorization",
        format!("Basic {}", STANDARD.encode(format!(":{}", config.token))),
    )];
    let statuses = format!(
        "{host}/{organization}/{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses?api-version=6.0"
    );
    let body = json!({
        "context": {"genre": genre, "name": config.commit_status},
        "description": description,
        "state": state,
    });
    Ok(Plan {
        api: StatusApi::AzureDevOps,
        list: request(Method::Get, statuses.clone(), &headers, None),
        create: request(Method::Post, statuses, &headers, Some(&body)),
        wanted: Wanted {
            id: config.commit_status.clone(),
            state,
            description,
            name: String::new(),
            genre,
        },
    })
}

/// `repository_dispatch` on GitHub: `event_type` = `Kind/name.namespace`, the event as the
/// client payload.
pub fn github_dispatch(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let (base, owner, repo) = github_api(config)?;
    let object = &event.involved_object;
    let event_type = format!(
        "{}/{}.{}",
        kind(event),
        name(event),
        object.namespace.as_deref().unwrap_or_default()
    );
    let body = json!({"event_type": event_type, "client_payload": event});
    Ok(request(
        Method::Post,
        format!("{base}repos/{owner}/{repo}/dispatches"),
        &github_headers(config),
        Some(&body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_to_sha() {
        let sha = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";
        for revision in [
            format!("main@sha1:{sha}"),
            format!("feature/x@sha1:{sha}"),
            format!("sha1:{sha}"),
            format!("main/{sha}"),
            format!("HEAD/{sha}"),
            sha.to_owned(),
        ] {
            assert_eq!(commit_sha(&revision).unwrap(), sha, "{revision}");
        }
        assert!(commit_sha("v1.0.0").is_err());
        assert!(commit_sha("main@sha1:4c0ffee").is_err());
    }

    #[test]
    fn git_addresses() {
        assert_eq!(
            parse_git_address("https://github.com/org/repo.git").unwrap(),
            ("https://github.com".to_owned(), "org/repo".to_owned())
        );
        assert_eq!(
            parse_git_address("ssh://git@gitlab.example.com:2222/group/sub/repo").unwrap(),
            (
                "https://gitlab.example.com:2222".to_owned(),
                "group/sub/repo".to_owned()
            )
        );
        assert_eq!(
            parse_git_address("git@github.com:org/repo.git").unwrap(),
            ("https://github.com".to_owned(), "org/repo".to_owned())
        );
        assert_eq!(
            parse_git_address("http://127.0.0.1:8080/org/repo").unwrap(),
            ("http://127.0.0.1:8080".to_owned(), "org/repo".to_owned())
        );
    }

    #[test]
    fn default_status_id() {
        let event = crate::event::test_event("info", &[]);
        assert_eq!(
            default_id("0b7c6a2e-0000-4000-8000-000000000001", &event),
            "kustomization/webapp/0b7c6a2e"
        );
    }

    fn github_plan() -> Plan {
        Plan {
            api: StatusApi::GitHub,
            list: request(Method::Get, String::new(), &[], None),
            create: request(Method::Get, String::new(), &[], None),
            wanted: Wanted {
                id: "kustomization/webapp/0b7c6a2e".to_owned(),
                state: "success".to_owned(),
                description: "reconciliation succeeded".to_owned(),
                ..Wanted::default()
            },
        }
    }

    #[test]
    fn github_duplicates_look_at_the_latest_status_of_our_context() {
        let plan = github_plan();
        let same = json!([
            {"context": "other", "state": "failure", "description": "x"},
            {"context": "kustomization/webapp/0b7c6a2e", "state": "success", "description": "reconciliation succeeded"},
        ]);
        assert!(plan.is_duplicate(Some(&same)));
        let newer_failure = json!([
            {"context": "kustomization/webapp/0b7c6a2e", "state": "failure", "description": "health check failed"},
            {"context": "kustomization/webapp/0b7c6a2e", "state": "success", "description": "reconciliation succeeded"},
        ]);
        assert!(!plan.is_duplicate(Some(&newer_failure)));
        assert!(!plan.is_duplicate(Some(&json!([]))));
        assert!(!plan.is_duplicate(None));
    }
}
