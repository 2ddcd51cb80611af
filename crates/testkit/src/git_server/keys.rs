//! Keys and certificates for a server, made with the `openssl` and `ssh-keygen` CLIs.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::run;

/// A test CA and a server certificate for 127.0.0.1 and localhost (P-256 keys): `ca.crt`,
/// `server.crt` and `server.key` in `dir`. Shared by every loopback TLS server of the testkit.
pub(crate) fn generate_pki(dir: &Path) -> Result<(), String> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "3650",
            "-subj",
            "/CN=ferroflux test CA",
        ])
        .args(ec)
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(dir.join("ca.crt")))?;
    run(Command::new("openssl")
        .args(["req", "-new", "-subj", "/CN=localhost"])
        .args(ec)
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.csr")))?;
    fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    )
    .map_err(|e| format!("writing server.ext: {e}"))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "3650", "-set_serial"])
        .arg(format!("0x{:x}", rand::random::<u64>() | 1 << 62))
        .arg("-in")
        .arg(dir.join("server.csr"))
        .arg("-CA")
        .arg(dir.join("ca.crt"))
        .arg("-CAkey")
        .arg(dir.join("ca.key"))
        .arg("-extfile")
        .arg(dir.join("server.ext"))
        .arg("-out")
        .arg(dir.join("server.crt")))?;
    Ok(())
}

/// A TLS client certificate (`client.crt`, `client.key`, extended key usage clientAuth)
/// issued by the CA that [`generate_pki`] wrote to `dir`.
pub(super) fn generate_client_cert(dir: &Path) -> Result<(), String> {
    run(Command::new("openssl")
        .args(["req", "-new", "-subj", "/CN=ferroflux test client"])
        .args([
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(dir.join("client.key"))
        .arg("-out")
        .arg(dir.join("client.csr")))?;
    fs::write(
        dir.join("client.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    )
    .map_err(|e| format!("writing client.ext: {e}"))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "3650", "-set_serial"])
        .arg(format!("0x{:x}", rand::random::<u64>() | 1 << 62))
        .arg("-in")
        .arg(dir.join("client.csr"))
        .arg("-CA")
        .arg(dir.join("ca.crt"))
        .arg("-CAkey")
        .arg(dir.join("ca.key"))
        .arg("-extfile")
        .arg(dir.join("client.ext"))
        .arg("-out")
        .arg(dir.join("client.crt")))?;
    Ok(())
}

/// Ed25519 host and client keys, `authorized_keys` for the client and a `known_hosts` line for
/// the host on `port`.
pub(super) fn generate_ssh_keys(dir: &Path, port: u16) -> Result<(), String> {
    for key in ["host_ed25519", "client_ed25519"] {
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C"])
            .arg(format!("ferroflux-test-{key}"))
            .arg("-f")
            .arg(dir.join(key)))?;
    }
    let read =
        |name: &str| fs::read_to_string(dir.join(name)).map_err(|e| format!("reading {name}: {e}"));
    fs::write(dir.join("authorized_keys"), read("client_ed25519.pub")?)
        .map_err(|e| format!("writing authorized_keys: {e}"))?;
    let host_key = read("host_ed25519.pub")?;
    let type_and_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    fs::write(
        dir.join("known_hosts"),
        format!("[127.0.0.1]:{port} {}\n", type_and_key.join(" ")),
    )
    .map_err(|e| format!("writing known_hosts: {e}"))
}
