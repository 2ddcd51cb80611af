//! The artifact file server: plain static HTTP over the storage root, GET (and HEAD) only,
//! with directory listings like Go's `http.FileServer` so `GET /` answers the readiness probe.

use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get_service;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;

/// The router serving `root`: files via `ServeDir`, directories as HTML listings, 404 for
/// anything missing, 405 for methods other than GET and HEAD.
pub fn router(root: impl Into<PathBuf>) -> Router {
    let root = root.into();
    let listing = directory_listing.with_state(root.clone());
    let files = ServeDir::new(root)
        .append_index_html_on_directories(false)
        .fallback(listing);
    Router::new().fallback_service(get_service(files))
}

/// Serves `storage_root` on `addr` until the process ends.
pub async fn serve(storage_root: PathBuf, addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_with_shutdown(listener, storage_root, std::future::pending()).await
}

/// Serves `storage_root` on an already bound listener until `shutdown` completes, then
/// finishes in-flight requests (Flux gives them 5s; callers bound this with a timeout).
pub async fn serve_with_shutdown(
    listener: TcpListener,
    storage_root: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(storage_root))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Lists a directory, redirects a directory URL without trailing slash, or answers 404.
/// Reached only when `ServeDir` found no file.
async fn directory_listing(State(root): State<PathBuf>, request: Request) -> Response {
    let uri_path = request.uri().path().to_owned();
    let Some(relative) = decode_path(&uri_path) else {
        return not_found();
    };
    let dir = root.join(relative);
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return not_found();
    };
    if !uri_path.ends_with('/') {
        // Go's FileServer answers 301 so relative links in the listing resolve.
        let location = format!("{uri_path}/");
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    let mut names = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // `metadata` follows symlinks, so `latest.tar.gz` lists as the file it points at.
        let is_dir = tokio::fs::metadata(entry.path())
            .await
            .is_ok_and(|m| m.is_dir());
        names.push(if is_dir { format!("{name}/") } else { name });
    }
    names.sort();
    let mut body = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for name in names {
        let href = escape_href(&name);
        let text = escape_html(&name);
        let _ = writeln!(body, "<a href=\"{href}\">{text}</a>");
    }
    body.push_str("</pre>\n");
    ([(header::CACHE_CONTROL, "no-cache")], Html(body)).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// Percent-decodes a URL path into a relative path of normal components; `None` for
/// anything that could leave the root.
fn decode_path(path: &str) -> Option<PathBuf> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            decoded.push(value);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    let decoded = String::from_utf8(decoded).ok()?;
    let mut relative = PathBuf::new();
    for component in Path::new(&decoded).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn escape_href(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn start(root: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback bind works");
        let address = listener.local_addr().expect("bound");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let root = root.to_path_buf();
        tokio::spawn(serve_with_shutdown(listener, root, async move {
            let _ = stopped.await;
        }));
        (format!("http://{address}"), stop)
    }

    #[tokio::test]
    async fn serves_files_listings_and_errors() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("gitrepository/flux-system/podinfo");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("abc.tar.gz"), b"artifact").expect("write");
        std::fs::write(dir.join("sha256:ab.tar.gz"), b"oci").expect("write");
        std::os::unix::fs::symlink("abc.tar.gz", dir.join("latest.tar.gz")).expect("symlink");
        let (base, stop) = start(root.path()).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds");
        let get = |path: &str| client.get(format!("{base}{path}")).send();

        let file = get("/gitrepository/flux-system/podinfo/abc.tar.gz")
            .await
            .expect("responds");
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.bytes().await.expect("body").as_ref(), b"artifact");
        let oci = get("/gitrepository/flux-system/podinfo/sha256:ab.tar.gz")
            .await
            .expect("responds");
        assert_eq!(oci.bytes().await.expect("body").as_ref(), b"oci");
        let latest = get("/gitrepository/flux-system/podinfo/latest.tar.gz")
            .await
            .expect("responds");
        assert_eq!(
            latest.bytes().await.expect("body").as_ref(),
            b"artifact",
            "symlinks are followed"
        );

        let probe = get("/").await.expect("responds");
        assert_eq!(probe.status(), StatusCode::OK, "readiness probe");
        assert!(
            probe
                .text()
                .await
                .expect("body")
                .contains("<a href=\"gitrepository/\">gitrepository/</a>")
        );
        let redirect = get("/gitrepository").await.expect("responds");
        assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);

        assert_eq!(
            get("/missing.tar.gz").await.expect("responds").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/../etc/passwd").await.expect("responds").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/%2e%2e/etc/").await.expect("responds").status(),
            StatusCode::NOT_FOUND
        );
        let post = client
            .post(format!("{base}/"))
            .send()
            .await
            .expect("responds");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        stop.send(()).expect("server is running");
    }

    #[test]
    fn decodes_paths_safely() {
        assert_eq!(decode_path("/a%20b/c"), Some(PathBuf::from("a b/c")));
        assert_eq!(decode_path("/a/../b"), None);
        assert_eq!(decode_path("/%2e%2e/b"), None);
        assert_eq!(decode_path("/%zz"), None);
        assert_eq!(escape_href("a b<"), "a%20b%3C");
    }
}
