//! SOPS decryption with age and PGP keys. The fixtures are encrypted at test time by the
//! real `sops` (built from its Go module by hack/build-sops.sh), so decryption is checked
//! against the reference implementation.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferroflux_api::kustomize::v1::{Decryption, DecryptionProvider};
use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Secret};
use kube::api::{Api, ListParams};

use crate::harness::Harness;

const AGE_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: age-secret\ntype: Opaque\nstringData:\n  password: age-plaintext-1f3a\n";
const PGP_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pgp-secret\ntype: Opaque\ndata:\n  token: cGdwLXBsYWludGV4dC05YzJl\n";
const ENV_FILE: &str = "USER=admin\nPASS=env-plaintext-77d0\n";
const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - age-secret.yaml\n  - pgp-secret.yaml\n  - carrier.yaml\nsecretGenerator:\n  - name: generated\n    envs:\n      - app.env\ngeneratorOptions:\n  disableNameSuffixHash: true\n";
const PLAINTEXTS: [&str; 4] = [
    "age-plaintext-1f3a",
    "pgp-plaintext-9c2e",
    "env-plaintext-77d0",
    "json-plaintext-5b81",
];

/// The directory holding `sops` and `age-keygen`.
fn tools() -> PathBuf {
    let script = ferroflux_testkit::repo_root().join("hack/build-sops.sh");
    let output = Command::new(&script)
        .output()
        .expect("running hack/build-sops.sh");
    assert!(
        output.status.success(),
        "hack/build-sops.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// An age identity file and its recipient.
fn age_key(tools: &Path, dir: &Path) -> (String, String) {
    let path = dir.join("key.txt");
    run(Command::new(tools.join("age-keygen")).arg("-o").arg(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    (text, recipient)
}

/// An armored PGP private key (no passphrase) and its fingerprint, made by gpg.
fn pgp_key(home: &Path) -> (String, String) {
    let gpg = || {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", home).args(["--batch", "--quiet"]);
        command
    };
    run(gpg().args([
        "--passphrase",
        "",
        "--quick-gen-key",
        "ferroflux test <sops@example.com>",
        "rsa2048",
        "encrypt,sign",
        "never",
    ]));
    let listing = run(gpg().args(["--list-keys", "--with-colons"]));
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| f.len() == 40))
        .unwrap()
        .to_owned();
    let armored = run(gpg().args(["--armor", "--export-secret-keys", &fingerprint]));
    (armored, fingerprint)
}

/// Encrypts `text` (named `name`, whose extension decides the format) with sops.
fn encrypt(tools: &Path, home: &Path, name: &str, text: &str, recipient: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let mut command = Command::new(tools.join("sops"));
    command
        .env("GNUPGHOME", home)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .arg("encrypt")
        .args(recipient);
    if Path::new(name).extension().is_some_and(|e| e == "yaml") {
        command.args(["--encrypted-regex", "^(data|stringData)$"]);
    }
    command.arg(&path);
    run(&mut command)
}

#[tokio::test]
async fn sops_age_and_pgp_secrets_are_applied_decrypted() {
    let tools = tools();
    let keys = tempfile::tempdir().unwrap();
    let home = keys.path().join("gnupg");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let (age_identity, recipient) = age_key(&tools, keys.path());
    let (pgp_armored, fingerprint) = pgp_key(&home);
    let age = ["--age", recipient.as_str()];
    let pgp = ["--pgp", fingerprint.as_str()];

    let age_secret = encrypt(&tools, &home, "age-secret.yaml", AGE_SECRET, &age);
    let pgp_secret = encrypt(&tools, &home, "pgp-secret.yaml", PGP_SECRET, &pgp);
    let env_file = encrypt(&tools, &home, "app.env", ENV_FILE, &age);
    // A SOPS JSON document inside a Secret's data, decrypted field by field.
    let json = encrypt(
        &tools,
        &home,
        "config.json",
        "{\"key\": \"json-plaintext-5b81\"}",
        &pgp,
    );
    let carrier = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: carrier\ndata:\n  config.json: {}\n",
        base64_encode(json.as_bytes())
    );
    // A tampered file: one ciphertext byte changed.
    let broken_secret = age_secret
        .replace("name: age-secret", "name: broken")
        .replacen("AES256_GCM,data:", "AES256_GCM,data:AAAA", 1);
    let files = [
        ("sops/kustomization.yaml", KUSTOMIZATION),
        ("sops/age-secret.yaml", age_secret.as_str()),
        ("sops/pgp-secret.yaml", pgp_secret.as_str()),
        ("sops/app.env", env_file.as_str()),
        ("sops/carrier.yaml", carrier.as_str()),
        ("broken/secret.yaml", broken_secret.as_str()),
        (
            "broken/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken-cm\ndata:\n  a: b\n",
        ),
    ];
    let harness = Harness::start("ks-sops", &files).await;
    harness
        .secret(
            "sops-keys",
            &[
                ("identity.agekey", &age_identity),
                ("private.asc", &pgp_armored),
            ],
        )
        .await;
    let decryption = Some(Decryption {
        provider: DecryptionProvider::Sops,
        secret_ref: Some(LocalObjectReference {
            name: "sops-keys".into(),
        }),
        service_account_name: None,
    });
    let mut spec = harness.spec("./sops");
    spec.decryption.clone_from(&decryption);
    harness.create("sops", spec).await;
    harness
        .wait_ready("sops", ConditionStatus::True, None)
        .await;

    let secrets: Api<Secret> = Api::namespaced(harness.client.clone(), harness.ns());
    let value = |secret: &Secret, key: &str| {
        String::from_utf8(secret.data.as_ref().unwrap()[key].0.clone()).unwrap()
    };
    let age_live = secrets.get("age-secret").await.unwrap();
    assert_eq!(value(&age_live, "password"), "age-plaintext-1f3a");
    assert!(
        age_live
            .metadata
            .annotations
            .unwrap_or_default()
            .keys()
            .all(|k| !k.contains("sops"))
    );
    let pgp_live = secrets.get("pgp-secret").await.unwrap();
    assert_eq!(value(&pgp_live, "token"), "pgp-plaintext-9c2e");
    let generated = secrets.get("generated").await.unwrap();
    assert_eq!(value(&generated, "PASS"), "env-plaintext-77d0");
    assert_eq!(value(&generated, "USER"), "admin");
    let carrier = secrets.get("carrier").await.unwrap();
    let config: serde_json::Value = serde_json::from_str(&value(&carrier, "config.json")).unwrap();
    assert_eq!(config["key"], "json-plaintext-5b81");

    // A tampered file fails the build, names the object, and nothing of it is applied.
    let mut broken = harness.spec("./broken");
    broken.decryption = decryption;
    harness.create("broken", broken).await;
    let object = harness
        .wait_ready("broken", ConditionStatus::False, Some("decryption failed"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "BuildFailed");
    assert!(
        message.contains("'Secret.v1.[noGrp]/broken'"),
        "message names the object: {message}"
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(harness.client.clone(), harness.ns());
    assert!(config_maps.get_opt("broken-cm").await.unwrap().is_none());
    assert!(secrets.get_opt("broken").await.unwrap().is_none());

    // No plaintext anywhere: status, events, logs.
    let mut haystack = serde_json::to_string(&object.status).unwrap();
    let events: Api<Event> = Api::namespaced(harness.client.clone(), harness.ns());
    for event in events.list(&ListParams::default()).await.unwrap() {
        haystack.push_str(&event.message.unwrap_or_default());
    }
    for name in ["sops", "broken"] {
        let object = harness.kustomizations().get(name).await.unwrap();
        haystack.push_str(&serde_json::to_string(&object.status).unwrap());
    }
    haystack.push_str(&harness.kustomize_controller.log());
    for plaintext in PLAINTEXTS {
        assert!(
            !haystack.contains(plaintext),
            "plaintext {plaintext} leaked into status, events or logs"
        );
    }
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
