//! Remote resources against real servers on loopback: a Git repository behind nginx + git
//! http-backend, and a plain HTTP file server. Output is compared with `kubectl kustomize`
//! (kustomize v5) building the same overlay.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use ferroflux_kustomize::{BuildOptions, LoadRestrictions, build_to_yaml};
use ferroflux_testkit::git_server::GitServer;

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.0\n";

fn options(allow_remote: bool) -> BuildOptions {
    BuildOptions {
        load_restrictor: LoadRestrictions::RootOnly,
        allow_remote,
    }
}

fn kubectl_kustomize(dir: &Path) -> String {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl kustomize failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn overlay(resources: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let list: String = resources
        .iter()
        .fold(String::new(), |list, r| list + "- " + r + "\n");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        format!("namePrefix: prod-\ncommonLabels:\n  env: prod\nresources:\n{list}"),
    )
    .unwrap();
    dir
}

/// Serves `body` for `/ok.yaml` and 404 for anything else, on a thread.
fn http_file_server(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut request_line).unwrap_or_default();
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let response = if request_line.starts_with("GET /ok.yaml ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    port
}

#[test]
fn git_and_http_remote_resources_build_like_kustomize() {
    let git = GitServer::start();
    let repo = git.create_repo("platform");
    let first = repo.commit(
        &[
            ("base/deployment.yaml", DEPLOYMENT),
            ("base/kustomization.yaml", "resources:\n- deployment.yaml\n"),
        ],
        "base",
    );
    repo.tag("v1.0.0", &first);
    repo.commit(
        &[(
            "base/deployment.yaml",
            &DEPLOYMENT.replace("nginx:1.0", "nginx:2.0"),
        )],
        "bump",
    );
    let port = http_file_server(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
    );
    let url = git.public_url(&repo);

    // The tag pins the old image; the HTTP file adds a ConfigMap.
    let pinned = overlay(&[
        format!("{url}//base?ref=v1.0.0"),
        format!("http://127.0.0.1:{port}/ok.yaml"),
    ]);
    let ours = build_to_yaml(pinned.path(), &options(true)).expect("the remote build succeeds");
    assert!(ours.contains("image: nginx:1.0"), "{ours}");
    assert!(ours.contains("name: prod-settings"), "{ours}");
    assert_eq!(ours, kubectl_kustomize(pinned.path()));

    // Without a ref: the remote's HEAD (main), i.e. the bumped image.
    let head = overlay(&[format!("{url}//base")]);
    let ours = build_to_yaml(head.path(), &options(true)).unwrap();
    assert!(ours.contains("image: nginx:2.0"), "{ours}");
    assert_eq!(ours, kubectl_kustomize(head.path()));

    // Off by default, with a clear message.
    let error = build_to_yaml(pinned.path(), &options(false))
        .unwrap_err()
        .to_string();
    assert!(error.contains("remote resources are disabled"), "{error}");

    // An HTTP error status stops at once, as in kustomize.
    let missing = overlay(&[format!("http://127.0.0.1:{port}/missing.yaml")]);
    let error = build_to_yaml(missing.path(), &options(true))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("HTTP Error: status code 404 (Not Found)"),
        "{error}"
    );

    // A ref that does not exist names the ref.
    let bad_ref = overlay(&[format!("{url}//base?ref=v9")]);
    let error = build_to_yaml(bad_ref.path(), &options(true))
        .unwrap_err()
        .to_string();
    assert!(error.contains("v9"), "{error}");
}
