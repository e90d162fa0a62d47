//! Secrets at rest: access-key and session secrets are encrypted with
//! AES-256-GCM under the server's master key (SigV4 needs the plaintext, so
//! a one-way hash would not do), and session tokens are kept as SHA-256
//! digests only.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{anyhow, Context as _};
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;
/// The first byte of a sealed value that names its key. Values sealed
/// before keys were named (`nonce || ciphertext`) have no header; they are
/// read as "legacy" by trying every key held (GCM's tag tells which one).
const FORMAT_V1: u8 = 1;
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const CHECK_LABEL: &[u8] = b"latchkey master key check v1";

/// One 32-byte key and its id, the check value: HMAC-SHA256(key,
/// "latchkey master key check v1"), first 8 bytes. The check names the key
/// (in sealed values, the database and backups) without revealing it.
struct Key {
    cipher: Aes256Gcm,
    id: [u8; KEY_ID_LEN],
}

impl Key {
    fn new(bytes: &[u8]) -> anyhow::Result<Self> {
        let cipher = Aes256Gcm::new_from_slice(bytes)
            .map_err(|_| anyhow!("the master key must be 32 bytes"))?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(bytes)
            .map_err(|_| anyhow!("the master key must be 32 bytes"))?;
        mac.update(CHECK_LABEL);
        let digest = mac.finalize().into_bytes();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Ok(Key { cipher, id })
    }

    fn open(&self, context: &str, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() < NONCE_LEN {
            return None;
        }
        let (nonce_bytes, ciphertext) = body.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce_bytes).ok()?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

/// The master key: the current key, which seals, and during a rotation the
/// previous one, which only opens. Cloning shares the ciphers; `Debug`
/// shows the check values only.
#[derive(Clone)]
pub struct MasterKey {
    current: Arc<Key>,
    previous: Option<Arc<Key>>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(check {})", self.check())
    }
}

/// The file of the current key in the data directory.
pub const KEY_FILE: &str = "master.key";
/// The file of the previous key, kept during a rotation.
pub const PREVIOUS_KEY_FILE: &str = "master.key.previous";

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        Ok(MasterKey {
            current: Arc::new(Key::new(bytes)?),
            previous: None,
        })
    }

    pub fn from_hex(hex_key: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(hex_key.trim()).context("the master key must be hex")?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key, hex-encoded: what `master.key` holds.
    pub fn generate_hex() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        hex::encode(key)
    }

    /// Reads `master.key` from the data directory, creating it (0600) with a
    /// fresh random key on first start. `master.key.previous`, when present
    /// (a rotation not yet forgotten), becomes the previous key.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let key = if path.exists() {
            Self::read_file(&path)?
        } else {
            // Servers started at once on a new data directory must agree
            // on one key: each writes its own under a name of its own and
            // links it into place, which only the first can do (a link
            // never replaces a file, and never shows a half-written one);
            // the others read the first's.
            let hex_key = Self::generate_hex();
            let own = data_dir.join(format!("{KEY_FILE}.{}.new", &Self::generate_hex()[..16]));
            write_private_file(&own, hex_key.as_bytes())?;
            let linked = std::fs::hard_link(&own, &path);
            let _ = std::fs::remove_file(&own);
            match linked {
                Ok(()) => Self::from_hex(&hex_key)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read_file(&path)?,
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", path.display()));
                }
            }
        };
        let previous = data_dir.join(PREVIOUS_KEY_FILE);
        if previous.exists() {
            return Ok(key.with_previous(Self::read_file(&previous)?));
        }
        Ok(key)
    }

    /// Reads a key file (hex).
    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_hex(&text).with_context(|| format!("reading {}", path.display()))
    }

    /// The same current key, with `previous`'s current key as the previous.
    pub fn with_previous(mut self, previous: MasterKey) -> Self {
        self.previous = Some(previous.current);
        self
    }

    /// The current key alone: what is left once the previous is forgotten.
    pub fn current_only(&self) -> MasterKey {
        MasterKey {
            current: self.current.clone(),
            previous: None,
        }
    }

    /// The check value of the current key (16 hex digits).
    pub fn check(&self) -> String {
        hex::encode(self.current.id)
    }

    /// The check value of the previous key, during a rotation.
    pub fn previous_check(&self) -> Option<String> {
        self.previous.as_ref().map(|k| hex::encode(k.id))
    }

    /// The header every value sealed under the current key starts with: the
    /// store finds the values still under another key by it.
    pub fn current_header(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.push(FORMAT_V1);
        header.extend_from_slice(&self.current.id);
        header
    }

    /// Encrypts `plaintext`, binding it to `context` (the key id) so that a
    /// ciphertext copied onto another row does not decrypt. The result is
    /// `1 || key check || nonce || ciphertext`.
    pub fn seal(&self, context: &str, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce_bytes);
        let nonce = Nonce::try_from(&nonce_bytes[..]).map_err(|_| anyhow!("nonce size"))?;
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut out = self.current_header();
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> anyhow::Result<String> {
        let plaintext = self
            .open_bytes(context, sealed)
            .ok_or_else(|| anyhow!("a stored secret does not decrypt under the master key"))?;
        String::from_utf8(plaintext).context("stored secret is not UTF-8")
    }

    fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&*self.current).chain(self.previous.as_deref())
    }

    fn open_bytes(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() > HEADER_LEN && sealed[0] == FORMAT_V1 {
            let id = &sealed[1..HEADER_LEN];
            if let Some(key) = self.keys().find(|k| k.id[..] == *id) {
                return key.open(context, &sealed[HEADER_LEN..]);
            }
        }
        // Legacy, or (one time in 2^72) a legacy nonce that looks like a
        // header: the tag decides.
        self.keys().find_map(|k| k.open(context, sealed))
    }

    /// Whether `sealed` names the current key.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.len() > HEADER_LEN && sealed.starts_with(&self.current_header())
    }

    /// Opens `sealed` (under any key held) and seals it again under the
    /// current key: what a rotation does to every stored secret.
    pub fn reseal(&self, context: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let plaintext = self.open(context, sealed)?;
        self.seal(context, &plaintext)
    }

    /// Whether a database stamped with `stored` can be served with these
    /// keys: sealed under the current key, or, in the middle of a rotation,
    /// under the previous one.
    pub fn accepts(&self, stored: &str) -> bool {
        stored == self.check() || self.previous_check().as_deref() == Some(stored)
    }

    /// The refusal when it cannot.
    pub fn mismatch(&self, stored: &str) -> String {
        format!(
            "this database was sealed under master key {stored}, but the key given has check {}; \
             start with the master key the database was sealed under (master.key in the data \
             directory, or --master-key)",
            self.check()
        )
    }
}

/// Hex SHA-256 of a session token: what the store keeps instead of the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality for secrets.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Replaces `path` with `contents`, readable by its owner only, atomically:
/// a temporary file in the same directory, synced, then renamed over it, and
/// the directory synced, so that a crash leaves the old file or the new one.
pub fn replace_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".tmp-{}", std::process::id()));
    let temp = std::path::PathBuf::from(name);
    let _ = std::fs::remove_file(&temp);
    write_private_file(&temp, contents)?;
    std::fs::File::open(&temp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("replacing {}", path.display()))?;
    sync_parent(path)
}

/// Syncs the directory holding `path`, so that a rename or an unlink in it
/// survives a crash.
pub fn sync_parent(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// Writes a file readable by its owner only.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_bind_context() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("AKIAEXAMPLE", "secret").unwrap();
        assert_eq!(key.open("AKIAEXAMPLE", &sealed).unwrap(), "secret");
        assert!(key.open("AKIAOTHER", &sealed).is_err());
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("AKIAEXAMPLE", &sealed).is_err());
        assert!(MasterKey::from_bytes(&[1u8; 16]).is_err());
    }

    #[test]
    fn master_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = MasterKey::load_or_create(dir.path()).unwrap();
        let sealed = a.seal("k", "v").unwrap();
        let b = MasterKey::load_or_create(dir.path()).unwrap();
        assert_eq!(b.open("k", &sealed).unwrap(), "v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// What a server before named keys wrote: `nonce || ciphertext`.
    fn legacy_seal(bytes: &[u8], context: &str, plaintext: &str) -> Vec<u8> {
        let cipher = Aes256Gcm::new_from_slice(bytes).unwrap();
        let nonce_bytes = [3u8; NONCE_LEN];
        let nonce = Nonce::try_from(&nonce_bytes[..]).unwrap();
        let aad = context.as_bytes();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .unwrap();
        [&nonce_bytes[..], &ct].concat()
    }

    #[test]
    fn sealed_values_name_their_key_and_legacy_ones_still_open() {
        let old = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let new = MasterKey::from_bytes(&[9u8; 32]).unwrap();
        assert_eq!(old.check().len(), 16);
        assert_ne!(old.check(), new.check());
        assert_eq!(
            old.check(),
            MasterKey::from_bytes(&[7u8; 32]).unwrap().check()
        );

        let legacy = legacy_seal(&[7u8; 32], "AKIA1", "s1");
        assert_eq!(old.open("AKIA1", &legacy).unwrap(), "s1");
        assert!(!old.is_current(&legacy));
        let under_old = old.seal("AKIA2", "s2").unwrap();
        assert!(old.is_current(&under_old));
        assert!(
            under_old.starts_with(&[&[FORMAT_V1][..], &hex::decode(old.check()).unwrap()].concat())
        );

        // During a rotation both open; only the new key seals.
        let rotating = new.clone().with_previous(old.clone());
        assert_eq!(rotating.previous_check(), Some(old.check()));
        assert_eq!(rotating.open("AKIA1", &legacy).unwrap(), "s1");
        assert_eq!(rotating.open("AKIA2", &under_old).unwrap(), "s2");
        assert!(!rotating.is_current(&under_old));
        let resealed = rotating.reseal("AKIA2", &under_old).unwrap();
        assert!(rotating.is_current(&resealed));
        assert!(new.is_current(&resealed));
        assert_eq!(new.open("AKIA2", &resealed).unwrap(), "s2");
        assert!(old.open("AKIA2", &resealed).is_err());
        assert!(new.open("AKIA1", &legacy).is_err());

        assert!(rotating.accepts(&old.check()) && rotating.accepts(&new.check()));
        assert!(!new.accepts(&old.check()));
        let message = new.mismatch(&old.check());
        assert!(message.contains(&old.check()) && message.contains(&new.check()));
        assert!(!format!("{rotating:?}").contains(&hex::encode([9u8; 32])));
    }

    #[test]
    fn constant_time_compare() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
