//! ferroflux's fetch over SSH: `git-upload-pack` run on the server through libssh2 (the
//! `ssh2` crate, over the library libgit2's SSH transport uses), authenticated with the
//! Secret's identity and with the host key checked against its `known_hosts`, as for
//! libgit2 (see [`super::remote::Remote`]). A proxy is reached through [`super::tunnel`],
//! whose loopback end is then the address dialled. Blocking: run on a blocking thread.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;

use super::checkout::GitReference;
use super::known_hosts;
use super::remote::Remote;
use super::upload_pack::{self, Fetched, clone_error};
use crate::error::SourceError;

/// How much of upload-pack's standard error a failure message quotes.
const MAX_STDERR: u64 = 4096;

/// Runs upload-pack on the remote, resolves `reference` and fetches what it needs into the
/// file `pack`.
pub fn fetch(
    remote: &Remote,
    reference: &GitReference,
    pack: &Path,
) -> Result<Fetched, SourceError> {
    let fail = |message: &str| clone_error(remote, message);
    let target = Target::parse(remote.connect_url()).ok_or_else(|| SourceError::InvalidSpec {
        reason: "URLInvalid",
        message: format!("invalid URL '{}'", remote.url),
    })?;
    let dial = |why: &dyn std::fmt::Display| {
        fail(&format!(
            "ssh: dial tcp {}:{}: {why}",
            target.host, target.port
        ))
    };
    let address = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| dial(&e))?
        .next()
        .ok_or_else(|| dial(&"no address"))?;
    let tcp = TcpStream::connect_timeout(&address, remote.timeout).map_err(|e| dial(&e))?;

    let ssh_error = |e: ssh2::Error| fail(&format!("ssh: {}", e.message()));
    let mut session = ssh2::Session::new().map_err(ssh_error)?;
    session.set_timeout(u32::try_from(remote.timeout.as_millis()).unwrap_or(u32::MAX));
    // The host key is checked against known_hosts for the real host, not the tunnel's end.
    let (host, port) = remote.host_and_port();
    let known = remote
        .auth
        .known_hosts
        .as_deref()
        .ok_or_else(|| fail("no known_hosts given to verify the SSH host key"))?;
    let key_types = known_hosts::key_types(known, &host, port);
    if !key_types.is_empty() {
        // Ask for a host key of a type known_hosts has (the server may offer several).
        session
            .method_pref(ssh2::MethodType::HostKey, &key_types.join(","))
            .map_err(ssh_error)?;
    }
    session.set_tcp_stream(tcp);
    session
        .handshake()
        .map_err(|e| fail(&format!("ssh: handshake failed: {}", e.message())))?;
    let key = session.host_key().map(|(key, _)| key).unwrap_or_default();
    if !known_hosts::is_known(known, &host, port, key) {
        return Err(fail(&format!(
            "ssh: handshake failed: knownhosts: key mismatch or unknown host for {host}:{port}"
        )));
    }
    let identity = remote
        .auth
        .identity
        .as_deref()
        .ok_or_else(|| fail("authentication required but no credentials were provided"))?;
    session
        .userauth_pubkey_memory(
            &target.user,
            None,
            identity,
            remote.auth.password.as_deref(),
        )
        .map_err(|e| {
            fail(&format!(
                "ssh: handshake failed: ssh: unable to authenticate: {}",
                e.message()
            ))
        })?;

    let mut channel = session.channel_session().map_err(ssh_error)?;
    channel
        .exec(&format!("git-upload-pack {}", quote(&target.path)))
        .map_err(ssh_error)?;
    let advertisement = upload_pack::read_advertisement(&mut channel)
        .map_err(|message| fail(&with_stderr(&mut channel, &message)))?;
    if advertisement.heads.is_empty() && advertisement.capabilities.is_empty() {
        // upload-pack exited without a word on its standard output (no such repository).
        return Err(fail(&with_stderr(
            &mut channel,
            "git-upload-pack sent no references",
        )));
    }
    let plan = upload_pack::plan(&advertisement, reference)
        .map_err(|e| super::checkout::checkout_error(remote, e))?;
    let object = plan.target(remote)?;
    let (request, shallow) = plan.request(&advertisement);
    channel
        .write_all(&request)
        .and_then(|()| channel.flush())
        .map_err(|e| fail(&format!("ssh: {e}")))?;
    upload_pack::receive(&mut channel, &advertisement, shallow, pack)
        .map_err(|message| fail(&with_stderr(&mut channel, &message)))?;
    let _ = channel.send_eof();
    let _ = channel.wait_close();
    Ok(Fetched {
        resolved: plan.resolved,
        target: object,
        pack: pack.to_owned(),
    })
}

/// `message`, followed by what upload-pack wrote on its standard error, if anything.
fn with_stderr(channel: &mut ssh2::Channel, message: &str) -> String {
    let mut stderr = String::new();
    let _ = channel
        .stderr()
        .take(MAX_STDERR)
        .read_to_string(&mut stderr);
    let stderr = stderr.trim();
    if stderr.is_empty() {
        message.to_owned()
    } else {
        format!("{message}: {stderr}")
    }
}

/// Where an `ssh://[user@]host[:port]/path` URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    user: String,
    host: String,
    port: u16,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("ssh://")?;
        let (authority, path) = rest.find('/').map(|i| rest.split_at(i))?;
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host_port)) => (user.to_owned(), host_port),
            None => ("git".to_owned(), authority),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (host_port, 22),
        };
        let host = host.trim_matches(['[', ']']).to_owned();
        // `ssh://host/~user/repo` names a path in user's home, as git reads it.
        let path = path
            .strip_prefix('/')
            .filter(|p| p.starts_with('~'))
            .unwrap_or(path);
        (!host.is_empty() && !path.is_empty()).then(|| Self {
            user,
            host,
            port,
            path: path.to_owned(),
        })
    }
}

/// `path` quoted for the remote shell, as git quotes it.
fn quote(path: &str) -> String {
    format!("'{}'", path.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_give_user_host_port_and_path() {
        let target = |url| Target::parse(url);
        assert_eq!(
            target("ssh://git@github.com/org/repo.git"),
            Some(Target {
                user: "git".into(),
                host: "github.com".into(),
                port: 22,
                path: "/org/repo.git".into()
            })
        );
        let local = target("ssh://root@127.0.0.1:2222/srv/it's.git").unwrap();
        assert_eq!((local.port, local.user.as_str()), (2222, "root"));
        assert_eq!(quote(&local.path), "'/srv/it'\\''s.git'");
        assert_eq!(target("ssh://[::1]:22/~me/r").unwrap().path, "~me/r");
        assert_eq!(target("ssh://h").map(|t| t.host), None);
        assert_eq!(target("https://h/r"), None);
    }
}
