//! Sprig's password and secret functions: `bcrypt`, `htpasswd`, `derivePassword` (the
//! Master Password algorithm, deterministic) and `encryptAES`/`decryptAES` (AES-256-CBC
//! with a random IV in front, base64).

use aws_lc_rs::cipher::{
    AES_256, DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey,
};
use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};

use super::{Registry, arg_int, arg_str};
use crate::function::{FuncError, ParamType as P};
use crate::value::Value;

/// Go's `bcrypt.DefaultCost`.
const BCRYPT_COST: u32 = 10;
const AES_BLOCK: usize = 16;
const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

pub(crate) fn register(r: &mut Registry) {
    r.typed("bcrypt", &[P::String], None, |a| {
        Ok(Value::from(bcrypt_hash(arg_str(a, 0))))
    });
    r.typed("htpasswd", &[P::String, P::String], None, |a| {
        let (user, password) = (arg_str(a, 0), arg_str(a, 1));
        if user.contains(':') {
            return Ok(Value::from(format!("invalid username: {user}")));
        }
        Ok(Value::from(format!("{user}:{}", bcrypt_hash(password))))
    });
    r.typed(
        "derivePassword",
        &[P::Uint32, P::String, P::String, P::String, P::String],
        None,
        |a| {
            let counter = u32::try_from(arg_int(a, 0)).unwrap_or_default();
            Ok(Value::from(derive_password(
                counter,
                arg_str(a, 1),
                arg_str(a, 2),
                arg_str(a, 3),
                arg_str(a, 4),
            )))
        },
    );
    r.typed("encryptAES", &[P::String, P::String], None, |a| {
        encrypt_aes(arg_str(a, 0), arg_str(a, 1)).map(Value::from)
    });
    r.typed("decryptAES", &[P::String, P::String], None, |a| {
        decrypt_aes(arg_str(a, 0), arg_str(a, 1)).map(Value::from)
    });
}

/// x/crypto's `GenerateFromPassword` at the default cost, `$2a$` as Go writes it; errors
/// come back as text, as Sprig returns them.
fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .to_owned();
    }
    match bcrypt::hash_with_result(password, BCRYPT_COST) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// The Master Password templates of each password type.
fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        b'x' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
        _ => b"",
    }
}

/// Sprig's `derivePassword`: scrypt(password, seed+user) keys an HMAC-SHA256 over
/// seed+site+counter; the digest picks a template and each character.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let scoped = |name: &str| {
        let mut out = MASTER_PASSWORD_SEED.as_bytes().to_vec();
        out.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out
    };
    let mut key = [0u8; 64];
    let derived = scrypt::Params::new(15, 8, 2)
        .map_err(|e| e.to_string())
        .and_then(|params| {
            scrypt::scrypt(password.as_bytes(), &scoped(user), &params, &mut key)
                .map_err(|e| e.to_string())
        });
    if let Err(e) = derived {
        return format!("failed to derive password: {e}");
    }
    let mut message = scoped(site);
    message.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return "failed to derive password: bad key".to_owned();
    };
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_characters(class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

/// The AES-256 key Sprig derives: the password's bytes, zero-padded or cut to 32.
fn aes_key(password: &str) -> Result<UnboundCipherKey, FuncError> {
    let mut key = [0u8; 32];
    let bytes = password.as_bytes();
    let length = bytes.len().min(32);
    key[..length].copy_from_slice(&bytes[..length]);
    UnboundCipherKey::new(&AES_256, &key).map_err(|e| FuncError::new(e.to_string()))
}

/// Sprig's `encryptAES`: PKCS#7 padding, random IV, `base64(iv || ciphertext)`.
fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, FuncError> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let mut content = plaintext.as_bytes().to_vec();
    let padding = AES_BLOCK - content.len() % AES_BLOCK;
    content.extend(std::iter::repeat_n(
        u8::try_from(padding).unwrap_or(16),
        padding,
    ));
    let key = EncryptingKey::cbc(aes_key(password)?).map_err(|e| FuncError::new(e.to_string()))?;
    let context = key
        .encrypt(&mut content)
        .map_err(|e| FuncError::new(e.to_string()))?;
    let DecryptionContext::Iv128(iv) = context else {
        return Err(FuncError::new("unexpected AES context"));
    };
    let mut out = iv.as_ref().to_vec();
    out.extend_from_slice(&content);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Sprig's `decryptAES`; where Go would panic (short or misaligned input, impossible
/// padding) this returns an error instead.
fn decrypt_aes(password: &str, encoded: &str) -> Result<String, FuncError> {
    if encoded.is_empty() {
        return Ok(String::new());
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| FuncError::new(go_base64_error(&e)))?;
    if data.len() < AES_BLOCK || !(data.len() - AES_BLOCK).is_multiple_of(AES_BLOCK) {
        return Err(FuncError::new("crypto/cipher: input not full blocks"));
    }
    let (iv, body) = data.split_at(AES_BLOCK);
    let mut body = body.to_vec();
    if body.is_empty() {
        return Err(FuncError::new("runtime error: index out of range [-1]"));
    }
    let iv: [u8; AES_BLOCK] = iv.try_into().map_err(|_| FuncError::new("bad IV"))?;
    let key = DecryptingKey::cbc(aes_key(password)?).map_err(|e| FuncError::new(e.to_string()))?;
    let plain = key
        .decrypt(&mut body, DecryptionContext::Iv128(iv.into()))
        .map_err(|e| FuncError::new(e.to_string()))?;
    let padding = usize::from(plain[plain.len() - 1]);
    if padding > plain.len() {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len().wrapping_sub(padding).cast_signed()
        )));
    }
    Ok(String::from_utf8_lossy(&plain[..plain.len() - padding]).into_owned())
}

/// Go's `base64.CorruptInputError` text.
fn go_base64_error(error: &base64::DecodeError) -> String {
    let offset = match error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        base64::DecodeError::InvalidLength(length) => *length,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {offset}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_round_trip() {
        for text in ["x", "exactly sixteen!", "a longer secret spanning blocks"] {
            let sealed = encrypt_aes("secretkey", text).unwrap();
            assert_eq!(decrypt_aes("secretkey", &sealed).unwrap(), text);
        }
        assert_eq!(encrypt_aes("k", "").unwrap(), "");
        assert!(decrypt_aes("k", "AAAA").is_err());
    }

    #[test]
    fn bcrypt_verifies() {
        let hash = bcrypt_hash("hunter2");
        assert!(hash.starts_with("$2a$10$"));
        assert!(bcrypt::verify("hunter2", &hash).unwrap());
    }
}
