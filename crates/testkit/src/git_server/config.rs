//! Configuration files for the daemons, all listening on 127.0.0.1 only.

use std::path::Path;

/// What the nginx configuration depends on.
pub(super) struct Nginx<'a> {
    pub root: &'a Path,
    pub http_port: u16,
    pub https_port: u16,
    pub bearer_token: &'a str,
    /// Keeps workers as root; otherwise a root master drops them to www-data.
    pub run_as_root: bool,
}

const NGINX: &str = r#"# Written by ferroflux-testkit's GitServer.
@USER@
worker_processes 1;
pid @ROOT@/http/nginx.pid;
error_log @ROOT@/logs/nginx-error.log;
daemon off;
events { worker_connections 256; }
http {
  access_log @ROOT@/logs/nginx-access.log;
  client_body_temp_path @ROOT@/http/tmp;
  fastcgi_temp_path @ROOT@/http/tmp;
  proxy_temp_path @ROOT@/http/tmp;
  uwsgi_temp_path @ROOT@/http/tmp;
  scgi_temp_path @ROOT@/http/tmp;
  map $http_authorization $ferroflux_bearer_ok {
    default 0;
    "Bearer @TOKEN@" 1;
  }
  server {
    listen 127.0.0.1:@HTTP_PORT@;
    listen 127.0.0.1:@HTTPS_PORT@ ssl;
    ssl_certificate @ROOT@/pki/server.crt;
    ssl_certificate_key @ROOT@/pki/server.key;
    # Client certificates are asked for on every TLS connection but only /mtls/ needs one.
    ssl_verify_client optional;
    ssl_client_certificate @ROOT@/pki/ca.crt;
    client_max_body_size 0;
    location ~ ^/git(?<git_path>/.*)$ {
      auth_basic "git";
      auth_basic_user_file @ROOT@/http/htpasswd;
@BACKEND@
    }
    location ~ ^/bearer(?<git_path>/.*)$ {
      if ($ferroflux_bearer_ok = 0) {
        add_header WWW-Authenticate 'Bearer realm="git"' always;
        return 401;
      }
@BACKEND@
    }
    location ~ ^/public(?<git_path>/.*)$ {
@BACKEND@
    }
    # A repository that moved: every request is sent on to /public/, as forges do.
    location ~ ^/moved(?<moved_path>/.*)$ {
      return 301 /public$moved_path$is_args$args;
    }
    location ~ ^/mtls(?<git_path>/.*)$ {
      if ($ssl_client_verify != SUCCESS) {
        return 400 "No required SSL certificate was sent\n";
      }
@BACKEND@
    }
  }
}
"#;

const BACKEND: &str = r#"      fastcgi_pass unix:@ROOT@/http/fcgiwrap.sock;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
      fastcgi_param GIT_PROJECT_ROOT @ROOT@/repos;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $git_path;
      fastcgi_param REMOTE_USER $remote_user;
      fastcgi_param GIT_PROTOCOL $http_git_protocol;"#;

/// nginx in front of `git http-backend`: `/git/` with basic auth, `/bearer/` with a token,
/// `/public/` open (and `/moved/` redirecting there), `/mtls/` for TLS clients with a certificate from the test CA; each on
/// the HTTP and the HTTPS port.
pub(super) fn nginx(config: &Nginx<'_>) -> String {
    NGINX
        .replace("@BACKEND@", BACKEND)
        .replace("@USER@", if config.run_as_root { "user root;" } else { "" })
        .replace("@ROOT@", &config.root.display().to_string())
        .replace("@HTTP_PORT@", &config.http_port.to_string())
        .replace("@HTTPS_PORT@", &config.https_port.to_string())
        .replace("@TOKEN@", config.bearer_token)
}

/// sshd with public-key auth only, the keys from `<root>/ssh`.
pub(super) fn sshd(root: &Path, port: u16) -> String {
    let ssh = root.join("ssh");
    let ssh = ssh.display();
    format!(
        "# Written by ferroflux-testkit's GitServer.
Port {port}
ListenAddress 127.0.0.1:{port}
HostKey {ssh}/host_ed25519
PidFile {ssh}/sshd.pid
AuthorizedKeysFile {ssh}/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
AcceptEnv GIT_PROTOCOL
"
    )
}
