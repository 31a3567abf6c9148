//! Personal data encrypted at rest: envelope encryption with blind indexes.
//!
//! - A **master key** is held outside the database: by default a 32-byte key file readable by
//!   its owner only ([`FileMaster`]); a KMS or an HSM plugs in through [`MasterKey`], which only
//!   wraps and unwraps data keys and never sees personal data.
//! - **Data keys** (AES-256-GCM) live in the database's `data_keys` table, each wrapped by the
//!   master key. One is active: new values are sealed with it. Older ones stay readable, so a
//!   rotation re-seals rows while the product runs (`daylight keys rotate`).
//! - An **index key** (HMAC-SHA-256) gives each searchable value a blind index, a keyed hash
//!   stored beside the ciphertext, so that exact search by mobile, resident ID or name and the
//!   gate's same-number checks run as equality on the index without the clear value.
//!
//! A sealed value is text: `dl1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The column's
//! name is authenticated with it (a ciphertext moved to another column does not open). A value
//! without the prefix is a row written before encryption (an upgraded database); `daylight
//! init` seals those.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use hmac::{KeyInit as _, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// The prefix of a sealed value.
pub const SEALED: &str = "dl1:";
/// The environment variable naming the master key file.
pub const KEY_FILE_ENV: &str = "DAYLIGHT_KEY_FILE";
const NONCE: usize = 12;
/// The associated data a data key is wrapped with.
const WRAP_AAD: &[u8] = b"daylight data key v1";

/// Wraps and unwraps data keys: the master key, outside the database. A KMS or an HSM
/// implements this with its own API; the data keys never leave the process unwrapped.
pub trait MasterKey: Send + Sync + fmt::Debug {
    /// A short, stable name of this master key (recorded with each key it wraps).
    fn id(&self) -> String;
    /// `key` wrapped for storage.
    fn wrap(&self, key: &[u8; 32]) -> Result<Vec<u8>>;
    /// The key `wrapped` holds; an error if this master key did not wrap it.
    fn unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32]>;
}

fn key_error(what: impl fmt::Display) -> StoreError {
    StoreError::Key(what.to_string())
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

/// A master key in a file: 64 hex digits, mode 0600. Created on first use when the database
/// has no data keys yet; never created over a database whose keys another master wrapped.
pub struct FileMaster {
    path: PathBuf,
    key: [u8; 32],
}

impl fmt::Debug for FileMaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileMaster").field("path", &self.path).field("id", &self.id()).finish()
    }
}

impl FileMaster {
    /// Where the master key is read from: `DAYLIGHT_KEY_FILE`, else
    /// `$XDG_CONFIG_HOME/daylight/master.key` (`~/.config/daylight/master.key`).
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os(KEY_FILE_ENV).filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        config.join("daylight").join("master.key")
    }

    /// Reads the key file at `path`. It must be readable by its owner only.
    pub fn load(path: &Path) -> Result<FileMaster> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| key_error(format!("master key file {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(key_error)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(key_error(format!(
                    "master key file {}: mode {:o}; expected 600 (readable by its owner only)",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32).ok_or_else(|| {
            key_error(format!("master key file {}: expected 64 hex digits", path.display()))
        })?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(FileMaster { path: path.to_owned(), key })
    }

    /// Writes a new random key to `path` (mode 0600, its folder 0700); refuses to overwrite.
    pub fn create(path: &Path) -> Result<FileMaster> {
        let fail = |e: std::io::Error| key_error(format!("master key file {}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
        let key: [u8; 32] = random();
        // Written beside, then linked into place: two processes creating it at once agree on
        // one key (the loser reads the winner's).
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            use std::io::Write as _;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                o.mode(0o600);
            }
            let mut f = o.open(&tmp).map_err(fail)?;
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes()).map_err(fail)?;
            f.sync_all().map_err(fail)?;
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(FileMaster { path: path.to_owned(), key }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => FileMaster::load(path),
            Err(e) => Err(fail(e)),
        }
    }

    /// The file at `path`, created if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<FileMaster> {
        if path.exists() { FileMaster::load(path) } else { FileMaster::create(path) }
    }

    /// The file this key came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl MasterKey for FileMaster {
    fn id(&self) -> String {
        // A fingerprint that says which file, not what is in it.
        let d = Sha256::digest([b"daylight master key id".as_slice(), &self.key].concat());
        format!("file:{}", &hex::encode(d)[..12])
    }

    fn wrap(&self, key: &[u8; 32]) -> Result<Vec<u8>> {
        seal_bytes(&Aes256Gcm::new(&self.key.into()), random(), WRAP_AAD, key)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32]> {
        let clear = open_bytes(&Aes256Gcm::new(&self.key.into()), WRAP_AAD, wrapped)
            .map_err(|_| key_error(format!("a data key does not open with {}", self.id())))?;
        clear.try_into().map_err(|_| key_error("a wrapped data key is not 32 bytes"))
    }
}

fn seal_bytes(cipher: &Aes256Gcm, nonce: [u8; NONCE], aad: &[u8], clear: &[u8]) -> Result<Vec<u8>> {
    let ct = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: clear, aad })
        .map_err(|_| key_error("encryption failed"))?;
    Ok([nonce.as_slice(), &ct].concat())
}

fn open_bytes(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> std::result::Result<Vec<u8>, ()> {
    if sealed.len() < NONCE + 16 {
        return Err(());
    }
    let (nonce, ct) = sealed.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| ())?;
    cipher.decrypt(&Nonce::from(nonce), Payload { msg: ct, aad }).map_err(|_| ())
}

/// A data key or the index key as stored: wrapped by the master key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// Its id (data keys are numbered from 1).
    pub id: i64,
    /// `data` or `index`.
    pub purpose: String,
    /// Which master key wrapped it.
    pub master: String,
    /// The wrapped key, base64.
    pub wrapped: String,
    /// Whether new values are sealed with it.
    pub active: bool,
}

impl StoredKey {
    /// A new random key of `purpose`, wrapped by `master`.
    pub fn generate(id: i64, purpose: &str, master: &dyn MasterKey, active: bool) -> Result<StoredKey> {
        let key: [u8; 32] = random();
        Ok(StoredKey {
            id,
            purpose: purpose.to_owned(),
            master: master.id(),
            wrapped: B64.encode(master.wrap(&key)?),
            active,
        })
    }

    /// This key rewrapped by `to` (a master key rotation).
    pub fn rewrap(&self, from: &dyn MasterKey, to: &dyn MasterKey) -> Result<StoredKey> {
        let key = self.unwrap(from)?;
        Ok(StoredKey { master: to.id(), wrapped: B64.encode(to.wrap(&key)?), ..self.clone() })
    }

    fn unwrap(&self, master: &dyn MasterKey) -> Result<[u8; 32]> {
        if self.master != master.id() {
            return Err(key_error(format!(
                "data key {} was wrapped by master key {}, the key file holds {}; use the file it \
                 was made with (--key-file or {KEY_FILE_ENV})",
                self.id,
                self.master,
                master.id()
            )));
        }
        let bytes = B64.decode(&self.wrapped).map_err(|_| key_error("a wrapped data key is not base64"))?;
        master.unwrap(&bytes)
    }
}

/// The database's keys, unwrapped: what seals and opens personal values and computes their
/// blind indexes.
pub struct Keyring {
    active: i64,
    /// Each data key's cipher, its key schedule computed once.
    data: BTreeMap<i64, Aes256Gcm>,
    /// The index key's HMAC, keyed once and cloned per value.
    index: hmac::Hmac<Sha256>,
    /// Nonces are this random base XOR a counter: unique within the process without a system
    /// call per value, and as unlikely to meet another process's as random nonces are.
    nonce_base: [u8; NONCE],
    counter: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("active", &self.active).field("keys", &self.data.len()).finish()
    }
}

impl Keyring {
    /// The keys `stored` unwrapped by `master`: one active data key and one index key.
    pub fn unwrap(stored: &[StoredKey], master: &dyn MasterKey) -> Result<Keyring> {
        let mut data = BTreeMap::new();
        let mut index = None;
        let mut active = None;
        for k in stored {
            let key = k.unwrap(master)?;
            match k.purpose.as_str() {
                "index" => {
                    index = Some(<hmac::Hmac<Sha256>>::new_from_slice(&key).expect("any key length"));
                }
                _ => {
                    data.insert(k.id, Aes256Gcm::new(&key.into()));
                    if k.active {
                        active = Some(k.id);
                    }
                }
            }
        }
        match (active, index) {
            (Some(active), Some(index)) => Ok(Keyring {
                active,
                data,
                index,
                nonce_base: random(),
                counter: std::sync::atomic::AtomicU64::new(0),
            }),
            _ => Err(key_error("the database has no active data key or no index key")),
        }
    }

    /// The data key new values are sealed with.
    pub fn active(&self) -> i64 {
        self.active
    }

    /// `clear`, sealed for the column `column` (`table.column`).
    pub fn seal(&self, column: &str, clear: &str) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut nonce = self.nonce_base;
        for (b, c) in nonce[NONCE - 8..].iter_mut().zip(n.to_be_bytes()) {
            *b ^= c;
        }
        let cipher = &self.data[&self.active];
        let sealed =
            seal_bytes(cipher, nonce, column.as_bytes(), clear.as_bytes()).expect("AES-GCM encrypts");
        format!("{SEALED}{}:{}", self.active, B64.encode(sealed))
    }

    /// An optional value sealed.
    pub fn seal_opt(&self, column: &str, clear: Option<&str>) -> Option<String> {
        clear.map(|c| self.seal(column, c))
    }

    /// The data key `stored` was sealed with (`None`: written in clear before encryption).
    pub fn key_of(stored: &str) -> Option<i64> {
        stored.strip_prefix(SEALED)?.split_once(':')?.0.parse().ok()
    }

    /// The clear value of `stored`, read from `column`. A value without the prefix was written
    /// before encryption and is returned as it is.
    pub fn open(&self, column: &str, stored: &str) -> Result<String> {
        let Some(rest) = stored.strip_prefix(SEALED) else { return Ok(stored.to_owned()) };
        let bad = || StoreError::Corrupt(format!("{column}: a sealed value does not open"));
        let (id, body) = rest.split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let key = self.data.get(&id).ok_or_else(|| {
            key_error(format!("{column}: sealed with data key {id}, which this process has not loaded"))
        })?;
        let bytes = B64.decode(body).map_err(|_| bad())?;
        let clear = open_bytes(key, column.as_bytes(), &bytes).map_err(|()| bad())?;
        String::from_utf8(clear).map_err(|_| bad())
    }

    /// An optional value opened.
    pub fn open_opt(&self, column: &str, stored: Option<String>) -> Result<Option<String>> {
        stored.map(|s| self.open(column, &s)).transpose()
    }

    /// The blind index of `value` in `domain` (`phone`, `resident_id`, `name`): 128 bits of
    /// HMAC-SHA-256 under the index key, hex. Equal values give equal indexes; without the
    /// key, an index tells nothing, not even for a value one could guess.
    pub fn blind(&self, domain: &str, value: &str) -> String {
        let mut mac = self.index.clone();
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// How long a process uses the keys it loaded before it reads `data_keys` again (and so
/// learns of a rotation another process made).
pub const KEY_RELOAD: std::time::Duration = std::time::Duration::from_secs(30);

/// A store's master key and the keyring it last loaded.
#[derive(Default)]
pub struct KeyCache {
    master: std::sync::Mutex<Option<std::sync::Arc<dyn MasterKey>>>,
    /// The key file, if not the default.
    path: Option<PathBuf>,
    ring: std::sync::RwLock<Option<(std::sync::Arc<Keyring>, std::time::Instant)>>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

impl KeyCache {
    /// A cache that reads (or creates) the master key file at `path`.
    pub fn with_key_file(path: PathBuf) -> KeyCache {
        KeyCache { path: Some(path), ..KeyCache::default() }
    }

    /// A cache that uses `master` instead of the default key file.
    pub fn with_master(master: std::sync::Arc<dyn MasterKey>) -> KeyCache {
        KeyCache { master: std::sync::Mutex::new(Some(master)), ..KeyCache::default() }
    }

    /// The master key: the one given, else the default key file (created when `create`, for a
    /// database that has no keys yet).
    pub fn master(&self, create: bool) -> Result<std::sync::Arc<dyn MasterKey>> {
        let mut m = self.master.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(m) = m.as_ref() {
            return Ok(m.clone());
        }
        let path = self.path.clone().unwrap_or_else(FileMaster::default_path);
        let file = if create {
            FileMaster::load_or_create(&path)?
        } else if path.exists() {
            FileMaster::load(&path)?
        } else {
            return Err(key_error(format!(
                "no master key file at {}: the database's data keys need the file they were \
                 wrapped with (--key-file or {KEY_FILE_ENV})",
                path.display()
            )));
        };
        let file: std::sync::Arc<dyn MasterKey> = std::sync::Arc::new(file);
        *m = Some(file.clone());
        Ok(file)
    }

    /// The keyring if it was loaded less than [`KEY_RELOAD`] ago.
    pub fn fresh(&self) -> Option<std::sync::Arc<Keyring>> {
        let r = self.ring.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        r.as_ref().filter(|(_, at)| at.elapsed() < KEY_RELOAD).map(|(k, _)| k.clone())
    }

    /// The last keyring loaded, however old.
    pub fn last(&self) -> Option<std::sync::Arc<Keyring>> {
        let r = self.ring.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        r.as_ref().map(|(k, _)| k.clone())
    }

    /// Keeps `ring` as the keyring just loaded.
    // A cache's age on the monotonic clock, never a time the product records or judges by.
    #[allow(clippy::disallowed_methods)]
    pub fn keep(&self, ring: Keyring) -> std::sync::Arc<Keyring> {
        let ring = std::sync::Arc::new(ring);
        *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((ring.clone(), std::time::Instant::now()));
        ring
    }

    /// Forgets the keyring: the next use reads `data_keys` again.
    pub fn forget(&self) {
        *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (FileMaster, Keyring, Vec<StoredKey>) {
        let dir = tempfile::tempdir().unwrap();
        let master = FileMaster::create(&dir.path().join("k/master.key")).unwrap();
        let stored = vec![
            StoredKey::generate(1, "data", &master, true).unwrap(),
            StoredKey::generate(0, "index", &master, false).unwrap(),
        ];
        let ring = Keyring::unwrap(&stored, &master).unwrap();
        (master, ring, stored)
    }

    #[test]
    fn values_seal_open_and_index() {
        let (master, ring, mut stored) = ring();
        let s = ring.seal("customers.name", "张三");
        assert!(s.starts_with("dl1:1:") && !s.contains("张三"));
        assert_ne!(s, ring.seal("customers.name", "张三"), "a fresh nonce each time");
        assert_eq!(ring.open("customers.name", &s).unwrap(), "张三");
        // Another column's ciphertext does not open here.
        assert_eq!(ring.open("customers.address", &s).unwrap_err().code(), "CORRUPT");
        // A clear legacy value reads as it is.
        assert_eq!(ring.open("customers.name", "李四").unwrap(), "李四");
        assert_eq!(ring.blind("phone", "13800138000"), ring.blind("phone", "13800138000"));
        assert_ne!(ring.blind("phone", "13800138000"), ring.blind("resident_id", "13800138000"));
        assert_eq!(ring.blind("phone", "13800138000").len(), 32);
        // A rotation: key 2 seals, key 1 still opens.
        stored.iter_mut().for_each(|k| k.active = false);
        stored.push(StoredKey::generate(2, "data", &master, true).unwrap());
        let ring2 = Keyring::unwrap(&stored, &master).unwrap();
        assert_eq!(ring2.open("customers.name", &s).unwrap(), "张三");
        assert_eq!(Keyring::key_of(&ring2.seal("x", "y")), Some(2));
        assert_eq!(ring2.blind("phone", "1"), ring.blind("phone", "1"), "the index key stays");
        // Unknown keys are refused with their code.
        assert_eq!(ring.open("x", &ring2.seal("x", "y")).unwrap_err().code(), "KEY");
    }

    #[test]
    fn master_keys_are_checked() {
        let (master, _, stored) = ring();
        let dir = tempfile::tempdir().unwrap();
        let other = FileMaster::create(&dir.path().join("other.key")).unwrap();
        let e = Keyring::unwrap(&stored, &other).unwrap_err();
        assert!(e.to_string().contains(&master.id()), "{e}");
        // Rewrapped by another master, the same keys open.
        let moved: Vec<StoredKey> = stored.iter().map(|k| k.rewrap(&master, &other).unwrap()).collect();
        Keyring::unwrap(&moved, &other).unwrap();
        // The file must be the owner's alone.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let p = dir.path().join("other.key");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(FileMaster::load(&p).unwrap_err().to_string().contains("expected 600"));
        }
        // A second create of the same path reads the first's key.
        let p = dir.path().join("again.key");
        let a = FileMaster::create(&p).unwrap();
        assert_eq!(FileMaster::load_or_create(&p).unwrap().id(), a.id());
    }
}
