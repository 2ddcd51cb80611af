//! A minimal S3 client over reqwest with its own AWS Signature Version 4 signer: what a
//! Bucket of provider `generic` needs (bucket existence, ListObjectsV2 with paging,
//! GetObject), with path-style addressing as minio-go uses for non-AWS endpoints.
//!
//! Credentials never appear in errors or `Debug` output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

use crate::oci::client::TlsOptions;

/// The SHA-256 of an empty payload.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Errors talking to an S3 endpoint.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The client could not be configured.
    #[error("{0}")]
    Configuration(String),
    /// The endpoint could not be reached or the transfer broke off.
    #[error("{0}")]
    Transport(String),
    /// The endpoint answered with an error.
    #[error("{message}")]
    Status {
        /// HTTP status.
        status: StatusCode,
        /// S3 error code (`NoSuchBucket`, `AccessDenied`...), if any.
        code: Option<String>,
        /// Human-readable description.
        message: String,
    },
    /// A response could not be understood.
    #[error("invalid response: {0}")]
    Invalid(String),
    /// Writing a downloaded object failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl S3Error {
    /// Whether the object or bucket does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// An access key pair. `Debug` never shows the secret.
#[derive(Clone)]
pub struct AccessKey {
    /// The access key id.
    pub id: String,
    /// The secret access key.
    pub secret: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKey(<redacted>)")
    }
}

/// How to reach an S3 endpoint.
#[derive(Clone, Debug)]
pub struct S3Options {
    /// `host[:port]` (a scheme prefix is tolerated).
    pub endpoint: String,
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
    /// The signing region (`us-east-1` when empty).
    pub region: String,
    /// Credentials; requests are anonymous without them.
    pub access_key: Option<AccessKey>,
    /// Extra CA and client certificate.
    pub tls: TlsOptions,
    /// Proxy URL, if any.
    pub proxy: Option<String>,
    /// Timeout of each request.
    pub timeout: Duration,
}

/// One listed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object key.
    pub key: String,
    /// The ETag without quotes.
    pub etag: String,
}

/// An S3 client for one endpoint.
pub struct S3Client {
    http: reqwest::Client,
    base: String,
    host: String,
    options: S3Options,
}

impl S3Client {
    /// A client for `options`; fails on unusable TLS material.
    pub fn new(options: S3Options) -> Result<Self, S3Error> {
        let host = options
            .endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        if host.is_empty() || host.contains('/') {
            return Err(S3Error::Configuration(format!(
                "invalid endpoint '{}': expected host[:port]",
                options.endpoint
            )));
        }
        let scheme = if options.insecure { "http" } else { "https" };
        let mut builder = reqwest::Client::builder().timeout(options.timeout);
        if let Some(ca) = &options.tls.ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                S3Error::Configuration(format!("failed to parse CA certificate 'ca.crt': {e}"))
            })?;
            builder = builder.tls_certs_merge(certificates);
        }
        if let Some((cert, key)) = &options.tls.client_cert {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                S3Error::Configuration(
                    "failed to load client certificate from 'tls.crt' and 'tls.key'".to_owned(),
                )
            })?;
            builder = builder.identity(identity);
        }
        if let Some(proxy) = &options.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|_| S3Error::Configuration("invalid proxy URL".to_owned()))?;
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| S3Error::Configuration(format!("failed to build HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: format!("{scheme}://{host}"),
            host,
            options,
        })
    }

    /// Whether the bucket exists (`HEAD /<bucket>`).
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool, S3Error> {
        match self
            .request(
                Method::HEAD,
                &format!("/{}", encode_path(bucket)),
                &BTreeMap::new(),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every object under `prefix` (ListObjectsV2, following continuation tokens).
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ObjectInfo>, S3Error> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = BTreeMap::from([("list-type".to_owned(), "2".to_owned())]);
            if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
                query.insert("prefix".to_owned(), prefix.to_owned());
            }
            if let Some(token) = &token {
                query.insert("continuation-token".to_owned(), token.clone());
            }
            let response = self
                .request(Method::GET, &format!("/{}", encode_path(bucket)), &query)
                .await?;
            let body = response
                .text()
                .await
                .map_err(|e| S3Error::Transport(e.without_url().to_string()))?;
            let page = parse_list(&body)?;
            objects.extend(page.objects);
            match page.next_token {
                Some(next) if page.truncated => token = Some(next),
                _ => break,
            }
        }
        Ok(objects)
    }

    /// Downloads an object into `writer`; returns its ETag (without quotes).
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        writer: &mut impl std::io::Write,
    ) -> Result<String, S3Error> {
        let path = format!("/{}/{}", encode_path(bucket), encode_path(key));
        let mut response = self.request(Method::GET, &path, &BTreeMap::new()).await?;
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| S3Error::Transport(e.without_url().to_string()))?
        {
            writer.write_all(&chunk)?;
        }
        writer.flush()?;
        Ok(etag)
    }

    /// Sends a signed request with an empty body; non-success statuses become errors.
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &BTreeMap<String, String>,
    ) -> Result<reqwest::Response, S3Error> {
        let canonical_query = canonical_query(query);
        let mut url = format!("{}{path}", self.base);
        if !canonical_query.is_empty() {
            url.push('?');
            url.push_str(&canonical_query);
        }
        let now = jiff::Timestamp::now();
        let amz_date = now.strftime("%Y%m%dT%H%M%SZ").to_string();
        let mut request = self
            .http
            .request(method.clone(), &url)
            .header("x-amz-date", &amz_date)
            .header("x-amz-content-sha256", EMPTY_SHA256);
        if let Some(key) = &self.options.access_key {
            let region = if self.options.region.is_empty() {
                "us-east-1"
            } else {
                &self.options.region
            };
            let authorization = sign(&SigningInput {
                method: method.as_str(),
                path,
                query: &canonical_query,
                host: &self.host,
                amz_date: &amz_date,
                region,
                key,
            });
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let response = request
            .send()
            .await
            .map_err(|e| S3Error::Transport(e.without_url().to_string()))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = if method == Method::HEAD {
            String::new()
        } else {
            response.text().await.unwrap_or_default()
        };
        let code = xml_value(&body, "Code");
        let message = match (&code, xml_value(&body, "Message")) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            _ => format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            ),
        };
        Err(S3Error::Status {
            status,
            code,
            message,
        })
    }
}

/// What a SigV4 signature covers.
struct SigningInput<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    host: &'a str,
    amz_date: &'a str,
    region: &'a str,
    key: &'a AccessKey,
}

/// The `Authorization` header of AWS Signature Version 4 for an empty-body S3 request.
fn sign(input: &SigningInput<'_>) -> String {
    let date = &input.amz_date[..8];
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical_request = format!(
        "{}\n{}\n{}\nhost:{}\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{}\n\n{signed_headers}\n{EMPTY_SHA256}",
        input.method, input.path, input.query, input.host, input.amz_date
    );
    let scope = format!("{date}/{}/s3/aws4_request", input.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", input.key.secret).as_bytes(),
        date.as_bytes(),
    );
    for part in [input.region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        input.key.id
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// URI-encodes like SigV4: unreserved characters stay, everything else is `%XX`.
fn uri_encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn encode_path(value: &str) -> String {
    uri_encode(value, true)
}

/// Sorted, encoded `key=value` pairs joined by `&` (used for the URL and the signature).
fn canonical_query(query: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

struct ListPage {
    objects: Vec<ObjectInfo>,
    truncated: bool,
    next_token: Option<String>,
}

fn parse_list(body: &str) -> Result<ListPage, S3Error> {
    if !body.contains("ListBucketResult") {
        return Err(S3Error::Invalid("not a ListObjectsV2 result".to_owned()));
    }
    let mut objects = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<Contents>") {
        let after = &rest[start + "<Contents>".len()..];
        let end = after
            .find("</Contents>")
            .ok_or_else(|| S3Error::Invalid("unterminated <Contents>".to_owned()))?;
        let block = &after[..end];
        let key = xml_value(block, "Key")
            .ok_or_else(|| S3Error::Invalid("object without <Key>".to_owned()))?;
        let etag = xml_value(block, "ETag").unwrap_or_default();
        objects.push(ObjectInfo {
            key,
            etag: etag.trim_matches('"').to_owned(),
        });
        rest = &after[end..];
    }
    Ok(ListPage {
        objects,
        truncated: xml_value(body, "IsTruncated").as_deref() == Some("true"),
        next_token: xml_value(body, "NextContinuationToken"),
    })
}

/// The unescaped text of the first `<tag>` element in `xml`.
fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..end]))
}

fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&after[..=semi]),
        }
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of AWS's SigV4 documentation for S3 (GET /test.txt with a Range header
    /// differs; this is the ListObjects example: GET /?max-keys=2&prefix=J).
    #[test]
    fn signs_like_the_aws_documentation() {
        let key = AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        };
        let query = BTreeMap::from([
            ("max-keys".to_owned(), "2".to_owned()),
            ("prefix".to_owned(), "J".to_owned()),
        ]);
        let authorization = sign(&SigningInput {
            method: "GET",
            path: "/",
            query: &canonical_query(&query),
            host: "examplebucket.s3.amazonaws.com",
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            key: &key,
        });
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
        assert!(!format!("{key:?}").contains("wJalr"));
    }

    #[test]
    fn parses_list_results() {
        let body = r#"<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b.txt</Key><ETag>&quot;abc&quot;</ETag></Contents><Contents><Key>dir/c</Key><ETag>"def"</ETag></Contents><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>"#;
        let page = parse_list(body).unwrap();
        assert_eq!(
            page.objects,
            [
                ObjectInfo {
                    key: "a&b.txt".to_owned(),
                    etag: "abc".to_owned()
                },
                ObjectInfo {
                    key: "dir/c".to_owned(),
                    etag: "def".to_owned()
                }
            ]
        );
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("tok"));
        assert_eq!(uri_encode("a b/c+", true), "a%20b/c%2B");
    }
}
