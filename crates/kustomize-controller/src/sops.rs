//! SOPS decryption with age and PGP keys, compatible with the files `sops` (v3) writes.
//!
//! A SOPS document is a tree whose leaves are `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`
//! values, plus a `sops` metadata block that holds the data key encrypted for each
//! recipient (age or PGP). Each leaf is AES-256-GCM encrypted with the data key, a 32-byte
//! nonce and the leaf's path (`key:key:`) as additional data. The MAC is the SHA-512 of all
//! plaintext leaves in document order, encrypted with the last-modified time as additional
//! data.
//!
//! Errors never carry a plaintext or ciphertext value.

use std::fmt::Write as _;
use std::io::Read as _;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha512};

/// AES-256-GCM with the 32-byte nonces sops uses.
type SopsCipher = AesGcm<Aes256, U32>;

/// Why a SOPS document could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    /// The document or its metadata is malformed.
    #[error("failed to load encrypted {format} data: {message}")]
    Load {
        /// The input format.
        format: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No key could decrypt the data key.
    #[error("cannot get sops data key: {0}")]
    DataKey(String),
    /// A value could not be decrypted.
    #[error("error decrypting sops tree: {0}")]
    Tree(String),
    /// The MAC does not match the decrypted values.
    #[error("failed to verify sops data integrity: {0}")]
    Mac(String),
    /// The decrypted tree cannot be written in the output format.
    #[error("failed to emit encrypted {input} file as decrypted {output}: {message}")]
    Emit {
        /// The input format.
        input: &'static str,
        /// The output format.
        output: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A key in the decryption Secret could not be imported.
    #[error("{0}")]
    Import(String),
}

/// The file formats SOPS encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A YAML document (or several).
    Yaml,
    /// A JSON object.
    Json,
    /// `KEY=value` lines.
    Dotenv,
    /// Arbitrary bytes, stored by sops as `{"data": …}` JSON.
    Binary,
}

impl Format {
    /// The name sops and Flux use in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Yaml => "YAML",
            Self::Json => "JSON",
            Self::Dotenv => "dotenv",
            Self::Binary => "binary",
        }
    }

    /// The format of a file by its name, as sops decides it (`.dockerconfigjson` is JSON,
    /// as in Flux).
    pub fn for_path(path: &str) -> Self {
        if has_suffix(path, ".yaml") || has_suffix(path, ".yml") {
            Self::Yaml
        } else if has_suffix(path, ".json") || has_suffix(path, ".dockerconfigjson") {
            Self::Json
        } else if has_suffix(path, ".env") {
            Self::Dotenv
        } else {
            Self::Binary
        }
    }

    /// The format of an encrypted document, recognised by its MAC marker (Flux's
    /// detection); `None` when the data is not SOPS encrypted.
    pub fn detect(data: &[u8]) -> Option<Self> {
        let contains = |marker: &[u8]| data.windows(marker.len()).any(|w| w == marker);
        if contains(b"\"mac\": \"ENC[") {
            Some(Self::Json)
        } else if contains(b"mac: ENC[") {
            Some(Self::Yaml)
        } else if contains(b"sops_mac=ENC[") {
            Some(Self::Dotenv)
        } else {
            None
        }
    }

    /// The marker that proves a file of this format is encrypted.
    pub fn marker(self) -> &'static [u8] {
        match self {
            Self::Yaml => b"mac: ENC[",
            Self::Json | Self::Binary => b"\"mac\": \"ENC[",
            Self::Dotenv => b"sops_mac=ENC[",
        }
    }
}

/// A case-sensitive suffix test, as Go's `strings.HasSuffix` in sops.
pub fn has_suffix(path: &str, suffix: &str) -> bool {
    path.as_bytes().ends_with(suffix.as_bytes())
}

/// The private keys of a decryption Secret.
#[derive(Default)]
pub struct Keys {
    age: Vec<Box<dyn age::Identity + Send + Sync>>,
    pgp: Vec<pgp::composed::SignedSecretKey>,
}

impl Keys {
    /// Imports the age identities (`AGE-SECRET-KEY-1…` lines, comments allowed) of a
    /// `*.agekey` entry.
    pub fn import_age(&mut self, text: &str) -> Result<(), SopsError> {
        let file = age::IdentityFile::from_buffer(text.as_bytes())
            .map_err(|e| SopsError::Import(format!("failed to parse age identities: {e}")))?;
        let identities = file
            .into_identities()
            .map_err(|e| SopsError::Import(format!("failed to parse age identities: {e}")))?;
        if identities.is_empty() {
            return Err(SopsError::Import("no age identity found".to_owned()));
        }
        self.age.extend(identities);
        Ok(())
    }

    /// Imports the secret keys of an armored (or binary) PGP `*.asc` entry.
    pub fn import_pgp(&mut self, data: &[u8]) -> Result<(), SopsError> {
        let (keys, _) = pgp::composed::PublicOrSecret::from_reader_many(data)
            .map_err(|e| SopsError::Import(format!("failed to parse PGP keys: {e}")))?;
        let before = self.pgp.len();
        for key in keys {
            let key =
                key.map_err(|e| SopsError::Import(format!("failed to parse PGP key: {e}")))?;
            if let pgp::composed::PublicOrSecret::Secret(secret) = key {
                self.pgp.push(secret);
            }
        }
        if self.pgp.len() == before {
            return Err(SopsError::Import("no PGP private key found".to_owned()));
        }
        Ok(())
    }

    fn age_data_key(&self, armored: &str) -> Option<Vec<u8>> {
        if self.age.is_empty() {
            return None;
        }
        let reader = age::armor::ArmoredReader::new(armored.trim().as_bytes());
        let decryptor = age::Decryptor::new_buffered(std::io::BufReader::new(reader)).ok()?;
        let identities = self.age.iter().map(|i| i.as_ref() as &dyn age::Identity);
        let mut plain = Vec::new();
        decryptor
            .decrypt(identities)
            .ok()?
            .read_to_end(&mut plain)
            .ok()?;
        Some(plain)
    }

    fn pgp_data_key(&self, armored: &str) -> Option<Vec<u8>> {
        if self.pgp.is_empty() {
            return None;
        }
        let (message, _) = pgp::composed::Message::from_string(armored).ok()?;
        let password = pgp::types::Password::empty();
        let mut message = message
            .decrypt_with_keys(vec![&password], self.pgp.iter().collect())
            .ok()?;
        if message.is_compressed() {
            message = message.decompress().ok()?;
        }
        message.as_data_vec().ok()
    }
}

/// The parts of the `sops` metadata block decryption needs.
struct Metadata {
    age: Vec<String>,
    age_recipients: Vec<String>,
    pgp: Vec<String>,
    pgp_fingerprints: Vec<String>,
    last_modified: String,
    mac: String,
    rules: Rules,
}

/// Which leaves are encrypted (sops' `shouldBeEncrypted`, without the comment rules).
#[derive(Default)]
struct Rules {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<regex::Regex>,
    encrypted_regex: Option<regex::Regex>,
    mac_only_encrypted: bool,
}

impl Rules {
    fn encrypted(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|p| p.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|p| p.ends_with(suffix.as_str()));
        }
        if let Some(regex) = &self.unencrypted_regex
            && path.iter().any(|p| regex.is_match(p))
        {
            encrypted = false;
        }
        if let Some(regex) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| regex.is_match(p));
        }
        encrypted
    }
}

fn load_error(format: Format, message: impl Into<String>) -> SopsError {
    SopsError::Load {
        format: format.name(),
        message: message.into(),
    }
}

fn metadata_of(sops: &Value, format: Format) -> Result<Metadata, SopsError> {
    let text = |key: &str| sops.get(key).and_then(Value::as_str).map(str::to_owned);
    let group = match sops.get("key_groups").and_then(Value::as_array) {
        Some(groups) if groups.len() > 1 => {
            return Err(load_error(
                format,
                "SOPS files with several key groups (Shamir secret sharing) are not supported",
            ));
        }
        Some(groups) => groups.first().unwrap_or(sops),
        None => sops,
    };
    let entries = |kind: &str, field: &str| -> Vec<String> {
        group
            .get(kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get(field).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let regex = |key: &str| -> Result<Option<regex::Regex>, SopsError> {
        text(key)
            .filter(|r| !r.is_empty())
            .map(|r| {
                regex::Regex::new(&r).map_err(|e| load_error(format, format!("invalid {key}: {e}")))
            })
            .transpose()
    };
    let mut rules = Rules {
        unencrypted_suffix: text("unencrypted_suffix").filter(|s| !s.is_empty()),
        encrypted_suffix: text("encrypted_suffix").filter(|s| !s.is_empty()),
        unencrypted_regex: regex("unencrypted_regex")?,
        encrypted_regex: regex("encrypted_regex")?,
        mac_only_encrypted: sops
            .get("mac_only_encrypted")
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
    };
    // sops' default when no rule is given.
    if rules.unencrypted_suffix.is_none()
        && rules.encrypted_suffix.is_none()
        && rules.unencrypted_regex.is_none()
        && rules.encrypted_regex.is_none()
        && text("unencrypted_comment_regex").is_none()
        && text("encrypted_comment_regex").is_none()
    {
        rules.unencrypted_suffix = Some("_unencrypted".to_owned());
    }
    Ok(Metadata {
        age: entries("age", "enc"),
        age_recipients: entries("age", "recipient"),
        pgp: entries("pgp", "enc"),
        pgp_fingerprints: entries("pgp", "fp"),
        last_modified: text("lastmodified").unwrap_or_default(),
        mac: text("mac").unwrap_or_default(),
        rules,
    })
}

/// Decrypts the data key with the first key that can (age first, then PGP, as sops).
fn data_key(metadata: &Metadata, keys: &Keys) -> Result<Vec<u8>, SopsError> {
    let key = metadata
        .age
        .iter()
        .find_map(|enc| keys.age_data_key(enc))
        .or_else(|| metadata.pgp.iter().find_map(|enc| keys.pgp_data_key(enc)));
    match key {
        Some(key) if key.len() == 32 => Ok(key),
        Some(_) => Err(SopsError::DataKey(
            "the decrypted data key is not 32 bytes long".to_owned(),
        )),
        None => {
            let mut message =
                String::from("no key in the decryption Secret can decrypt the data key");
            if !metadata.age_recipients.is_empty() {
                let _ = write!(
                    message,
                    "; age recipients: {}",
                    metadata.age_recipients.join(", ")
                );
            }
            if !metadata.pgp_fingerprints.is_empty() {
                let _ = write!(
                    message,
                    "; PGP fingerprints: {}",
                    metadata.pgp_fingerprints.join(", ")
                );
            }
            Err(SopsError::DataKey(message))
        }
    }
}

/// One `ENC[…]` value, decrypted to its bytes and its sops type.
fn decrypt_value(text: &str, key: &[u8], additional: &str) -> Result<(Vec<u8>, String), SopsError> {
    let invalid =
        || SopsError::Tree("Input string <redacted> does not match sops' data format".to_owned());
    let inner = text
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(invalid)?;
    let mut parts = [None; 4];
    for field in inner.split(',') {
        let (name, value) = field.split_once(':').ok_or_else(invalid)?;
        let slot = match name {
            "data" => 0,
            "iv" => 1,
            "tag" => 2,
            "type" => 3,
            _ => return Err(invalid()),
        };
        parts[slot] = Some(value);
    }
    let [Some(data), Some(iv), Some(tag), Some(kind)] = parts else {
        return Err(invalid());
    };
    let decode = |field: &str, value: &str| {
        STANDARD
            .decode(value)
            .map_err(|e| SopsError::Tree(format!("Error base64-decoding {field}: {e}")))
    };
    let (mut data, iv, tag) = (
        decode("data", data)?,
        decode("iv", iv)?,
        decode("tag", tag)?,
    );
    if iv.len() != 32 {
        return Err(SopsError::Tree(format!(
            "unsupported AES-GCM nonce size {} (sops uses 32 bytes)",
            iv.len()
        )));
    }
    data.extend_from_slice(&tag);
    let cipher = SopsCipher::new_from_slice(key)
        .map_err(|_| SopsError::Tree("invalid data key length".to_owned()))?;
    let plain = cipher
        .decrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: &data,
                aad: additional.as_bytes(),
            },
        )
        .map_err(|_| {
            SopsError::Tree(
                "Could not decrypt value: Could not decrypt with AES_GCM: cipher: message authentication failed"
                    .to_owned(),
            )
        })?;
    Ok((plain, kind.to_owned()))
}

/// The typed value of a decrypted leaf.
fn typed(plain: Vec<u8>, kind: &str) -> Result<Value, SopsError> {
    let text = String::from_utf8(plain)
        .map_err(|_| SopsError::Tree("a decrypted value is not valid UTF-8".to_owned()))?;
    let bad = || SopsError::Tree(format!("a decrypted value is not a valid {kind}"));
    Ok(match kind {
        "str" | "bytes" | "time" | "comment" => Value::String(text),
        "int" => Value::from(text.parse::<i64>().map_err(|_| bad())?),
        "float" => Value::from(text.parse::<f64>().map_err(|_| bad())?),
        "bool" => Value::Bool(match text.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err(bad()),
        }),
        other => return Err(SopsError::Tree(format!("Unknown datatype: {other}"))),
    })
}

/// The bytes sops hashes for the MAC (`sops.ToBytes`).
fn mac_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Bool(true) => b"True".to_vec(),
        Value::Bool(false) => b"False".to_vec(),
        Value::Number(n) => n.to_string().into_bytes(),
        Value::Null | Value::Array(_) | Value::Object(_) => Vec::new(),
    }
}

/// Walks the tree in document order, decrypting leaves and hashing them.
struct Walker<'a> {
    key: &'a [u8],
    rules: &'a Rules,
    hasher: Sha512,
}

impl Walker<'_> {
    fn walk(&mut self, value: &mut Value, path: &mut Vec<String>) -> Result<(), SopsError> {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    path.push(key.clone());
                    self.walk(child, path)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|item| self.walk(item, path)),
            Value::Null => Ok(()),
            leaf => self.leaf(leaf, path),
        }
    }

    fn leaf(&mut self, leaf: &mut Value, path: &[String]) -> Result<(), SopsError> {
        let encrypted = self.rules.encrypted(path);
        if encrypted {
            let Value::String(text) = leaf else {
                return Err(SopsError::Tree(
                    "Expected encrypted value as string, but got a plain value".to_owned(),
                ));
            };
            if !text.is_empty() {
                let additional = format!("{}:", path.join(":"));
                let (plain, kind) = decrypt_value(text, self.key, &additional)?;
                *leaf = typed(plain, &kind)?;
            }
        }
        if encrypted || !self.rules.mac_only_encrypted {
            self.hasher.update(mac_bytes(leaf));
        }
        Ok(())
    }

    /// Decrypts a comment (sops keeps undecryptable comments as they are).
    fn comment(&self, text: &str, path: &[String]) -> String {
        if !self.rules.encrypted(path) {
            return text.to_owned();
        }
        let additional = format!("{}:", path.join(":"));
        decrypt_value(text, self.key, &additional)
            .ok()
            .and_then(|(plain, _)| String::from_utf8(plain).ok())
            .unwrap_or_else(|| text.to_owned())
    }
}

/// The MAC recorded in the metadata, decrypted.
fn recorded_mac(metadata: &Metadata, key: &[u8]) -> Result<String, SopsError> {
    if metadata.mac.is_empty() {
        return Ok(String::new());
    }
    // Go's time.RFC3339 drops fractional seconds.
    let last_modified = match metadata.last_modified.split_once('.') {
        Some((head, tail)) => {
            let zone = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}{zone}")
        }
        None => metadata.last_modified.clone(),
    };
    let (plain, _) = decrypt_value(&metadata.mac, key, &last_modified)
        .map_err(|e| SopsError::Mac(e.to_string()))?;
    String::from_utf8(plain).map_err(|_| SopsError::Mac("the MAC is not valid UTF-8".to_owned()))
}

/// A parsed encrypted document: its branches (documents) and metadata.
struct Document {
    branches: Vec<Value>,
    comments: Vec<Vec<DotenvLine>>,
    sops: Value,
}

/// A dotenv line, kept so comments survive a dotenv-to-dotenv decryption.
#[derive(Clone)]
enum DotenvLine {
    Comment(String),
    Pair(String),
}

fn parse(data: &[u8], format: Format) -> Result<Document, SopsError> {
    let text = std::str::from_utf8(data).map_err(|_| load_error(format, "not valid UTF-8"))?;
    match format {
        Format::Json | Format::Binary => {
            let mut value: Value = serde_json::from_str(text)
                .map_err(|e| load_error(format, format!("invalid JSON: {e}")))?;
            let sops = take_sops(&mut value, format)?;
            Ok(Document {
                branches: vec![value],
                comments: Vec::new(),
                sops,
            })
        }
        Format::Yaml => {
            let mut branches = ferroflux_kustomize::yaml::parse_documents(text)
                .map_err(|e| load_error(format, format!("invalid YAML at line {}", e.line)))?;
            let mut sops = None;
            for branch in &mut branches {
                if branch.get("sops").is_some() {
                    sops = Some(take_sops(branch, format)?);
                }
            }
            let sops = sops.ok_or_else(|| load_error(format, "sops metadata not found"))?;
            Ok(Document {
                branches,
                comments: Vec::new(),
                sops,
            })
        }
        Format::Dotenv => parse_dotenv(text),
    }
}

fn take_sops(value: &mut Value, format: Format) -> Result<Value, SopsError> {
    value
        .as_object_mut()
        .and_then(|map| map.shift_remove("sops"))
        .filter(Value::is_object)
        .ok_or_else(|| load_error(format, "sops metadata not found"))
}

fn parse_dotenv(text: &str) -> Result<Document, SopsError> {
    let mut branch = Map::new();
    let mut lines = Vec::new();
    let mut sops = Value::Object(Map::new());
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            lines.push(DotenvLine::Comment(comment.to_owned()));
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| load_error(Format::Dotenv, "invalid dotenv input line"))?;
        let value = value.replace("\\n", "\n");
        if let Some(flat) = key.strip_prefix("sops_") {
            unflatten(&mut sops, flat, Value::String(value));
        } else {
            branch.insert(key.to_owned(), Value::String(value));
            lines.push(DotenvLine::Pair(key.to_owned()));
        }
    }
    Ok(Document {
        branches: vec![Value::Object(branch)],
        comments: vec![lines],
        sops,
    })
}

/// Inserts `value` at a flattened sops metadata path (`age__list_0__map_enc`).
fn unflatten(root: &mut Value, flat: &str, value: Value) {
    let mut tokens: Vec<Result<usize, String>> = Vec::new();
    let mut rest = flat;
    let head_end = rest.find("__").unwrap_or(rest.len());
    tokens.push(Err(rest[..head_end].to_owned()));
    rest = &rest[head_end..];
    while !rest.is_empty() {
        let (token, tail) = if let Some(tail) = rest.strip_prefix("__list_") {
            let end = tail.find("__").unwrap_or(tail.len());
            (Ok(tail[..end].parse().unwrap_or(0)), &tail[end..])
        } else if let Some(tail) = rest.strip_prefix("__map_") {
            let end = tail
                .find("__list_")
                .into_iter()
                .chain(tail.find("__map_"))
                .min();
            let end = end.unwrap_or(tail.len());
            (Err(tail[..end].to_owned()), &tail[end..])
        } else {
            (Err(rest.to_owned()), "")
        };
        tokens.push(token);
        rest = tail;
    }
    let mut node = root;
    for (index, token) in tokens.iter().enumerate() {
        let last = index + 1 == tokens.len();
        let next_is_list = tokens.get(index + 1).is_some_and(Result::is_ok);
        let fresh = || {
            if next_is_list {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        node = match token {
            Err(key) => {
                let Some(map) = node.as_object_mut() else {
                    return;
                };
                if last {
                    map.insert(key.clone(), value);
                    return;
                }
                map.entry(key.clone()).or_insert_with(fresh)
            }
            Ok(position) => {
                let Some(items) = node.as_array_mut() else {
                    return;
                };
                while items.len() <= *position {
                    items.push(if last { Value::Null } else { fresh() });
                }
                if last {
                    items[*position] = value;
                    return;
                }
                &mut items[*position]
            }
        };
    }
}

/// Decrypts a whole SOPS document and writes it in `output` format (Flux's
/// `SopsDecryptWithFormat`); with `check_mac`, the MAC must match.
pub fn decrypt_document(
    data: &[u8],
    input: Format,
    output: Format,
    keys: &Keys,
    check_mac: bool,
) -> Result<Vec<u8>, SopsError> {
    let mut document = parse(data, input)?;
    let metadata = metadata_of(&document.sops, input)?;
    let key = data_key(&metadata, keys)?;
    let mut walker = Walker {
        key: &key,
        rules: &metadata.rules,
        hasher: Sha512::new(),
    };
    for branch in &mut document.branches {
        walker.walk(branch, &mut Vec::new())?;
    }
    let comments: Vec<Vec<DotenvLine>> = document
        .comments
        .iter()
        .map(|lines| {
            lines
                .iter()
                .map(|line| match line {
                    DotenvLine::Comment(text) => DotenvLine::Comment(walker.comment(text, &[])),
                    pair @ DotenvLine::Pair(_) => pair.clone(),
                })
                .collect()
        })
        .collect();
    let mac = hex::encode_upper(walker.hasher.finalize());
    if check_mac {
        let recorded = recorded_mac(&metadata, &key)?;
        if recorded != mac {
            return Err(SopsError::Mac(
                "the MAC does not match the data (the file was changed after it was encrypted)"
                    .to_owned(),
            ));
        }
    }
    emit(&document.branches, &comments, input, output)
}

/// Decrypts a whole encrypted object (a resource with a `sops` field) in place of its
/// values. As in Flux, the MAC is not checked: the build may have changed the object.
pub fn decrypt_object(object: &Value, keys: &Keys) -> Result<Value, SopsError> {
    let mut value = object.clone();
    let sops = take_sops(&mut value, Format::Json)?;
    let metadata = metadata_of(&sops, Format::Json)?;
    let key = data_key(&metadata, keys)?;
    let mut walker = Walker {
        key: &key,
        rules: &metadata.rules,
        hasher: Sha512::new(),
    };
    walker.walk(&mut value, &mut Vec::new())?;
    Ok(value)
}

fn emit(
    branches: &[Value],
    comments: &[Vec<DotenvLine>],
    input: Format,
    output: Format,
) -> Result<Vec<u8>, SopsError> {
    let error = |message: &str| SopsError::Emit {
        input: input.name(),
        output: output.name(),
        message: message.to_owned(),
    };
    let first = branches
        .first()
        .ok_or_else(|| error("the document is empty"))?;
    match output {
        Format::Yaml => Ok(branches
            .iter()
            .map(ferroflux_kustomize::yaml::to_yaml)
            .collect::<Vec<_>>()
            .join("---\n")
            .into_bytes()),
        Format::Json => {
            let mut text =
                serde_json::to_string_pretty(first).map_err(|e| error(&e.to_string()))?;
            text.push('\n');
            Ok(text.into_bytes())
        }
        Format::Binary => match first.get("data") {
            Some(Value::String(data)) => Ok(data.clone().into_bytes()),
            _ => Err(error("no binary data found in tree")),
        },
        Format::Dotenv => {
            let map = first
                .as_object()
                .ok_or_else(|| error("the document is not a map"))?;
            let default_lines: Vec<DotenvLine> =
                map.keys().map(|k| DotenvLine::Pair(k.clone())).collect();
            let lines = comments.first().unwrap_or(&default_lines);
            let mut out = String::new();
            for line in lines {
                match line {
                    DotenvLine::Comment(text) => {
                        let _ = writeln!(out, "#{text}");
                    }
                    DotenvLine::Pair(key) => {
                        let value = match map.get(key) {
                            Some(Value::String(s)) => s.replace('\n', "\\n"),
                            Some(Value::Array(_) | Value::Object(_)) => {
                                return Err(error(&format!(
                                    "cannot use complex value in dotenv file; offending key {key}"
                                )));
                            }
                            Some(Value::Null) | None => String::new(),
                            Some(other) => other.to_string(),
                        };
                        let _ = writeln!(out, "{key}={value}");
                    }
                }
            }
            Ok(out.into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn formats_by_path_and_marker() {
        assert_eq!(Format::for_path("secret.yaml"), Format::Yaml);
        assert_eq!(Format::for_path(".dockerconfigjson"), Format::Json);
        assert_eq!(Format::for_path("app.env"), Format::Dotenv);
        assert_eq!(Format::for_path("key.pem"), Format::Binary);
        assert_eq!(
            Format::detect(b"a: 1\nsops:\n  mac: ENC[x]"),
            Some(Format::Yaml)
        );
        assert_eq!(
            Format::detect(b"{\"sops\": {\"mac\": \"ENC[x]\"}}"),
            Some(Format::Json)
        );
        assert_eq!(Format::detect(b"sops_mac=ENC[x]"), Some(Format::Dotenv));
        assert_eq!(Format::detect(b"plain: text"), None);
    }

    #[test]
    fn dotenv_metadata_is_unflattened() {
        let mut root = json!({});
        unflatten(&mut root, "age__list_0__map_recipient", json!("age1x"));
        unflatten(&mut root, "age__list_0__map_enc", json!("enc"));
        unflatten(&mut root, "lastmodified", json!("2024-01-01T00:00:00Z"));
        assert_eq!(
            root,
            json!({"age": [{"recipient": "age1x", "enc": "enc"}], "lastmodified": "2024-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn typed_values_and_mac_bytes_follow_sops() {
        assert_eq!(typed(b"3".to_vec(), "int").unwrap(), json!(3));
        assert_eq!(typed(b"True".to_vec(), "bool").unwrap(), json!(true));
        assert_eq!(mac_bytes(&json!(true)), b"True");
        assert_eq!(mac_bytes(&json!(1.5)), b"1.5");
        assert!(typed(b"x".to_vec(), "weird").is_err());
    }

    #[test]
    fn values_without_keys_fail_without_leaking() {
        let error = decrypt_value(
            "ENC[AES256_GCM,data:c2VjcmV0,iv:AAAA,tag:AAAA,type:str]",
            &[0; 32],
            "a:",
        )
        .unwrap_err()
        .to_string();
        assert!(!error.contains("c2VjcmV0"), "{error}");
    }
}
