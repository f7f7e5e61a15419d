//! The authkey handshake of CPython's `multiprocessing.connection`, as pure functions over bytes.
//!
//! One side *delivers* a challenge, the other *answers* it; a [`Listener`](crate::Listener)
//! delivers then answers, a [`Client`](crate::Client) answers then delivers, so both sides
//! prove they know the key. The protocol is CPython 3.12+'s:
//!
//! 1. deliverer → `#CHALLENGE#{sha256}` + 40 random bytes;
//! 2. answerer → `{sha256}` + HMAC-SHA256(key, everything after `#CHALLENGE#`);
//! 3. deliverer → `#WELCOME#` or `#FAILURE#`.
//!
//! and it interoperates with CPython 3.11 and older, which send a bare 20-byte challenge and
//! expect (and send) a bare 16-byte HMAC-MD5: a challenge or response of 16 or 20 bytes is the
//! legacy form. The MAC covers the whole challenge, `{digest}` prefix included, so a peer
//! cannot downgrade a prefixed challenge. Digests are compared in constant time. Every
//! handshake message is at most [`MAX_MESSAGE_LEN`] bytes.

use crate::error::{Error, Result};
use hmac::{Hmac, Mac};

/// The prefix of a challenge message.
pub const CHALLENGE: &[u8] = b"#CHALLENGE#";
/// The deliverer's verdict when the response was right.
pub const WELCOME: &[u8] = b"#WELCOME#";
/// The deliverer's verdict when the response was wrong.
pub const FAILURE: &[u8] = b"#FAILURE#";
/// The largest handshake message either side accepts.
pub const MAX_MESSAGE_LEN: usize = 256;
/// Random bytes in a challenge (CPython's `MESSAGE_LENGTH`).
pub const NONCE_LEN: usize = 40;

const LEGACY_CHALLENGE_LEN: usize = 20;
const MD5_LEN: usize = 16;
const MAX_DIGEST_NAME: usize = 20;

/// The MAC algorithms a peer may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Md5,
    Sha256,
    Sha384,
}

impl Digest {
    fn name(self) -> &'static [u8] {
        match self {
            Digest::Md5 => b"md5",
            Digest::Sha256 => b"sha256",
            Digest::Sha384 => b"sha384",
        }
    }

    fn from_name(name: &[u8]) -> Result<Self> {
        match name {
            b"md5" => Ok(Digest::Md5),
            b"sha256" => Ok(Digest::Sha256),
            b"sha384" => Ok(Digest::Sha384),
            _ => Err(Error::Authentication(format!(
                "unsupported digest {:?}",
                String::from_utf8_lossy(name)
            ))),
        }
    }

    fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(message);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Digest::Md5 => run::<Hmac<md5::Md5>>(key, message),
            Digest::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
            Digest::Sha384 => run::<Hmac<sha2::Sha384>>(key, message),
        }
    }

    fn verify(self, key: &[u8], message: &[u8], mac: &[u8]) -> bool {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], mac: &[u8]) -> bool {
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(message);
                    // Constant-time comparison (and a length check).
                    m.verify_slice(mac).is_ok()
                }
                Err(_) => false,
            }
        }
        match self {
            Digest::Md5 => run::<Hmac<md5::Md5>>(key, message, mac),
            Digest::Sha256 => run::<Hmac<sha2::Sha256>>(key, message, mac),
            Digest::Sha384 => run::<Hmac<sha2::Sha384>>(key, message, mac),
        }
    }
}

/// Splits a challenge or response into its digest (`None` for the legacy unprefixed form)
/// and payload.
fn split_digest(message: &[u8]) -> Result<(Option<Digest>, &[u8])> {
    if message.len() == LEGACY_CHALLENGE_LEN || message.len() == MD5_LEN {
        return Ok((None, message));
    }
    if message.first() == Some(&b'{') {
        let window = &message[1..message.len().min(MAX_DIGEST_NAME + 1)];
        if let Some(close) = window.iter().position(|&b| b == b'}') {
            let digest = Digest::from_name(&window[..close])?;
            return Ok((Some(digest), &message[close + 2..]));
        }
    }
    Err(Error::Authentication(format!(
        "message of {} bytes has neither a legacy length nor a {{digest}} prefix",
        message.len()
    )))
}

/// The challenge message a deliverer sends: `#CHALLENGE#{sha256}` followed by `nonce`.
///
/// # Examples
///
/// ```
/// let msg = multiproc_pipe::handshake::challenge_message(&[7; 40]);
/// assert!(msg.starts_with(b"#CHALLENGE#{sha256}"));
/// assert_eq!(msg.len(), 11 + 8 + 40);
/// ```
pub fn challenge_message(nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(CHALLENGE.len() + 8 + NONCE_LEN);
    msg.extend_from_slice(CHALLENGE);
    msg.extend_from_slice(b"{sha256}");
    msg.extend_from_slice(nonce);
    msg
}

/// The answerer's reply to a challenge message received from the peer.
///
/// A `{digest}`-prefixed challenge gets `{digest}` + HMAC(key, challenge) with that digest; a
/// legacy (unprefixed) one gets a bare HMAC-MD5.
///
/// # Errors
///
/// [`Error::Authentication`] if `received` is not a challenge, is too short or too long, or
/// names a digest we do not support.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::handshake::{challenge_message, respond, verify};
/// let challenge = challenge_message(&[1; 40]);
/// let reply = respond(b"key", &challenge)?;
/// assert!(reply.starts_with(b"{sha256}"));
/// verify(b"key", &challenge, &reply)?;
/// assert!(verify(b"other", &challenge, &reply).is_err());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn respond(authkey: &[u8], received: &[u8]) -> Result<Vec<u8>> {
    if received.len() > MAX_MESSAGE_LEN {
        return Err(Error::Authentication("challenge too long".into()));
    }
    let Some(message) = received.strip_prefix(CHALLENGE) else {
        return Err(Error::Authentication(
            "protocol error: expected a challenge".into(),
        ));
    };
    if message.len() < LEGACY_CHALLENGE_LEN {
        return Err(Error::Authentication(format!(
            "challenge too short: {} bytes",
            message.len()
        )));
    }
    match split_digest(message)?.0 {
        None => Ok(Digest::Md5.mac(authkey, message)),
        Some(digest) => {
            let mac = digest.mac(authkey, message);
            let mut out = Vec::with_capacity(digest.name().len() + 2 + mac.len());
            out.push(b'{');
            out.extend_from_slice(digest.name());
            out.push(b'}');
            out.extend_from_slice(&mac);
            Ok(out)
        }
    }
}

/// The deliverer's check of the peer's `response` to the challenge message `challenge` it
/// sent (the whole message, `#CHALLENGE#` included).
///
/// An unprefixed 16-byte response is a legacy HMAC-MD5; otherwise the response names its
/// digest. The comparison is constant-time.
///
/// # Errors
///
/// [`Error::Authentication`] if the response is malformed, names an unsupported digest, or
/// does not match.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::handshake::{challenge_message, respond, verify};
/// let challenge = challenge_message(&[2; 40]);
/// assert!(verify(b"k", &challenge, b"garbage").is_err());
/// verify(b"k", &challenge, &respond(b"k", &challenge)?)?;
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn verify(authkey: &[u8], challenge: &[u8], response: &[u8]) -> Result<()> {
    if response.len() > MAX_MESSAGE_LEN {
        return Err(Error::Authentication("response too long".into()));
    }
    let message = challenge.strip_prefix(CHALLENGE).unwrap_or(challenge);
    let (digest, mac) = split_digest(response)?;
    let digest = digest.unwrap_or(Digest::Md5);
    if digest.verify(authkey, message, mac) {
        Ok(())
    } else {
        Err(Error::Authentication("digest received was wrong".into()))
    }
}

/// The answerer's reading of the deliverer's verdict.
///
/// # Errors
///
/// [`Error::Authentication`] unless `verdict` is `#WELCOME#`.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::handshake::{check_verdict, FAILURE, WELCOME};
/// assert!(check_verdict(WELCOME).is_ok());
/// assert!(check_verdict(FAILURE).is_err());
/// ```
pub fn check_verdict(verdict: &[u8]) -> Result<()> {
    if verdict == WELCOME {
        Ok(())
    } else {
        Err(Error::Authentication("digest sent was rejected".into()))
    }
}

/// Fills a fresh challenge nonce from the OS random source.
pub(crate) fn nonce() -> Result<[u8; NONCE_LEN]> {
    let mut n = [0u8; NONCE_LEN];
    getrandom::fill(&mut n).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_challenge_gets_bare_md5() {
        let mut challenge = CHALLENGE.to_vec();
        challenge.extend_from_slice(&[9u8; 20]);
        let reply = respond(b"abc", &challenge).unwrap();
        assert_eq!(reply.len(), 16);
        verify(b"abc", &challenge, &reply).unwrap();
    }

    #[test]
    fn modern_challenge_accepts_legacy_md5_reply() {
        // A 3.11 answerer MACs the whole prefixed message with MD5 and sends it bare.
        let challenge = challenge_message(&[3; 40]);
        let bare = Digest::Md5.mac(b"k", &challenge[CHALLENGE.len()..]);
        verify(b"k", &challenge, &bare).unwrap();
        assert!(verify(b"j", &challenge, &bare).is_err());
    }

    #[test]
    fn empty_key_works_and_hostile_inputs_fail() {
        let challenge = challenge_message(&[0; 40]);
        verify(b"", &challenge, &respond(b"", &challenge).unwrap()).unwrap();
        assert!(respond(b"", b"#CHALLENGE#{sha3_256}xxxxxxxxxxxxxxxxxxxxxxxxx").is_err());
        assert!(respond(b"", b"#CHALLENGE#short").is_err());
        assert!(respond(b"", b"hello").is_err());
        assert!(verify(b"", &challenge, b"{sha256}").is_err());
        assert!(verify(b"", &challenge, b"{}").is_err());
        assert!(verify(b"", &challenge, &[b'{'; 300]).is_err());
    }
}
