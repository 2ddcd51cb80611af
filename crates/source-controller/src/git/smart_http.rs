//! ferroflux's fetch over Git's smart HTTP protocol (version 0/1, stateless RPC): the
//! reference advertisement from `info/refs`, then one `git-upload-pack` request whose answer
//! is streamed into the pack file (see [`super::upload_pack`] for the protocol and why).
//! Credentials, the Secret's CA, client certificates and proxies are reqwest's, configured
//! as for the bridge libgit2 uses ([`super::bridge::http_client`]).

use std::path::Path;

use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::checkout::GitReference;
use super::remote::Remote;
use super::upload_pack::{self, AGENT, Fetched, clone_error};
use crate::error::SourceError;

/// The largest reference advertisement read (a repository with very many tags).
const MAX_ADVERTISEMENT: usize = 64 << 20;
/// The reference advertisement's path below the repository URL.
const INFO_REFS: &str = "/info/refs?service=git-upload-pack";
/// Lists the remote's references, resolves `reference` and fetches what it needs (see
/// [`upload_pack::plan`]) into the file `pack`.
pub async fn fetch(
    remote: &Remote,
    reference: &GitReference,
    pack: &Path,
) -> Result<Fetched, SourceError> {
    let client = super::bridge::http_client(remote)?;
    let mut endpoint = Endpoint::of(remote)?;

    let request = client
        .get(format!("{}{INFO_REFS}", endpoint.base))
        .header("Pragma", "no-cache");
    let response = endpoint.send(remote, request).await?;
    check_content_type(
        remote,
        &response,
        "application/x-git-upload-pack-advertisement",
    )?;
    // A moved repository answers with a redirect: the pack is asked from where it went, as
    // git does.
    if let Some(base) = response.url().as_str().strip_suffix(INFO_REFS) {
        base.clone_into(&mut endpoint.base);
    }
    let body = read_limited(remote, response, MAX_ADVERTISEMENT).await?;
    let advertisement = upload_pack::read_advertisement(&mut body.as_slice())
        .map_err(|message| clone_error(remote, &message))?;
    let plan = upload_pack::plan(&advertisement, reference)
        .map_err(|e| super::checkout::checkout_error(remote, e))?;
    let target = plan.target(remote)?;
    let (body, shallow) = plan.request(&advertisement);
    let request = client
        .post(format!("{}/git-upload-pack", endpoint.base))
        .header(CONTENT_TYPE, "application/x-git-upload-pack-request")
        .header(ACCEPT, "application/x-git-upload-pack-result")
        .body(body);
    let response = endpoint.send(remote, request).await?;
    check_content_type(remote, &response, "application/x-git-upload-pack-result")?;
    let stream = Box::pin(response.bytes_stream().map(|chunk| {
        chunk.map_err(|e| std::io::Error::other(super::bridge::error_chain(&e.without_url())))
    }));
    let mut reader = SyncIoBridge::new(StreamReader::new(stream));
    let path = pack.to_owned();
    tokio::task::spawn_blocking(move || {
        upload_pack::receive(&mut reader, &advertisement, shallow, &path)
    })
    .await
    .map_err(|e| SourceError::Fetch(format!("git operation failed: {e}")))?
    .map_err(|message| clone_error(remote, &message))?;
    Ok(Fetched {
        resolved: plan.resolved,
        target,
        pack: pack.to_owned(),
    })
}

/// Where requests go and with which credentials.
struct Endpoint {
    /// The repository URL without credentials or trailing slash.
    base: String,
    /// User and password from the Secret or, failing that, the URL.
    basic: Option<(String, String)>,
}

impl Endpoint {
    fn of(remote: &Remote) -> Result<Self, SourceError> {
        let mut url = reqwest::Url::parse(&remote.url).map_err(|e| SourceError::InvalidSpec {
            reason: "URLInvalid",
            message: format!("invalid URL '{}': {e}", remote.url),
        })?;
        let from_url = (!url.username().is_empty()).then(|| {
            (
                super::tunnel::percent_decode(url.username()),
                url.password()
                    .map(super::tunnel::percent_decode)
                    .unwrap_or_default(),
            )
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let basic = match (&remote.auth.username, &remote.auth.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            _ => from_url,
        };
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            basic,
        })
    }

    /// Sends `request` with the credentials; anything but 200 is an error.
    async fn send(
        &self,
        remote: &Remote,
        mut request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        request = request.header(USER_AGENT, AGENT);
        if let Some(token) = &remote.auth.bearer_token {
            request = request.bearer_auth(token);
        } else if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .send()
            .await
            .map_err(|e| transfer_error(remote, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let credentials = remote.auth.bearer_token.is_some() || self.basic.is_some();
        let message = match status.as_u16() {
            401 | 403 if credentials => {
                "authentication required but the provided credentials were rejected".to_owned()
            }
            401 => "authentication required but no credentials were provided".to_owned(),
            code => format!("unexpected http status code: {code}"),
        };
        Err(clone_error(remote, &message))
    }
}

fn transfer_error(remote: &Remote, error: reqwest::Error) -> SourceError {
    clone_error(remote, &super::bridge::error_chain(&error.without_url()))
}

/// A smart server answers with its own content type; anything else (a dumb server, a login
/// page) is refused.
fn check_content_type(
    remote: &Remote,
    response: &reqwest::Response,
    expected: &str,
) -> Result<(), SourceError> {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with(expected) {
        Ok(())
    } else {
        Err(clone_error(
            remote,
            &format!(
                "the server does not speak Git's smart HTTP protocol (content type '{content_type}', expected '{expected}')"
            ),
        ))
    }
}

async fn read_limited(
    remote: &Remote,
    response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, SourceError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transfer_error(remote, e))?;
        if body.len() + chunk.len() > limit {
            return Err(clone_error(
                remote,
                &format!("the reference advertisement is over {} MiB", limit >> 20),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
