//! The local keyring: a file of named, versioned KEKs, for development and pilots.
//!
//! File format (text, one record per line, `#` starts a comment):
//!
//! ```text
//! mqseal-keyring 1
//! key <name> <version> <64 hex digits>
//! primary <name> <version>
//! ```
//!
//! Data keys are wrapped with AES-256 Key Wrap (RFC 3394), which turns a 32-byte data
//! key into 40 bytes. The keyring is not a production KMS: its keys sit in a file on
//! the host, protected only by file permissions.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use aes_kw::KeyInit;
use zeroize::Zeroizing;

use super::KeyProvider;
use crate::dek::{DataKey, WrappedKey};
use crate::error::{Error, ErrorCode, Result, quote_short};
use crate::suite::KEY_LEN;

const HEADER: &str = "mqseal-keyring 1";
const WRAPPED_LEN: usize = KEY_LEN + 8;
/// Key id prefixes of other providers, which the keyring does not claim.
const FOREIGN_PREFIXES: [&str; 3] = ["arn:", "alias/", "pkcs11:"];

/// The parsed contents of a keyring file. `Debug` prints names and versions only.
#[derive(Clone, Default)]
pub struct KeyringFile {
    keys: BTreeMap<String, KeyEntry>,
}

#[derive(Clone, Default)]
struct KeyEntry {
    primary: u32,
    versions: BTreeMap<u32, Zeroizing<[u8; KEY_LEN]>>,
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
}

const NAME_RULE: &str = "use 1 to 255 characters from A-Z, a-z, 0-9 and - _ . : /";

fn check_name(name: &str) -> Result<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "key name {} is invalid: {NAME_RULE}",
            quote_short(name)
        )))
    }
}

fn decode_hex_key(hex: &str, line: usize) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let bad = || {
        Error::config(format!(
            "keyring line {line}: the key must be {} hex digits",
            KEY_LEN * 2
        ))
    };
    if hex.len() != KEY_LEN * 2 {
        return Err(bad());
    }
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

impl KeyringFile {
    /// Parses keyring text. Errors name the line but never echo key material.
    pub fn parse(text: &str) -> Result<KeyringFile> {
        let mut file = KeyringFile::default();
        let mut primaries: Vec<(String, u32, usize)> = Vec::new();
        let mut saw_header = false;
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if !saw_header {
                if line != HEADER {
                    return Err(Error::config(format!(
                        "keyring line {line_no}: expected the header {HEADER:?}; is this an mqseal keyring?"
                    )));
                }
                saw_header = true;
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["key", name, version, hex] => {
                    if !is_valid_name(name) {
                        return Err(Error::config(format!(
                            "keyring line {line_no}: the key name is invalid: {NAME_RULE}"
                        )));
                    }
                    let version = parse_version(version, line_no)?;
                    let key = decode_hex_key(hex, line_no)?;
                    let entry = file.keys.entry((*name).to_owned()).or_default();
                    if entry.versions.insert(version, key).is_some() {
                        return Err(Error::config(format!(
                            "keyring line {line_no}: version {version} of this key already appears on an earlier line"
                        )));
                    }
                }
                ["primary", name, version] => {
                    primaries.push((
                        (*name).to_owned(),
                        parse_version(version, line_no)?,
                        line_no,
                    ));
                }
                _ => {
                    return Err(Error::config(format!(
                        "keyring line {line_no}: expected \"key NAME VERSION HEX\" or \"primary NAME VERSION\""
                    )));
                }
            }
        }
        if !saw_header {
            return Err(Error::config(format!(
                "keyring is empty: expected the header {HEADER:?}"
            )));
        }
        for (name, version, line_no) in primaries {
            let entry = file.keys.get_mut(&name).ok_or_else(|| {
                Error::config(format!(
                    "keyring line {line_no}: the primary line names a key that no key line defines"
                ))
            })?;
            if !entry.versions.contains_key(&version) {
                return Err(Error::config(format!(
                    "keyring line {line_no}: the primary line names version {version}, which that key does not have"
                )));
            }
            entry.primary = version;
        }
        for (name, entry) in &mut file.keys {
            if entry.primary == 0 {
                entry.primary = *entry.versions.keys().next_back().ok_or_else(|| {
                    Error::internal(format!("keyring entry {name} has no versions"))
                })?;
            }
        }
        Ok(file)
    }

    /// Serializes the keyring to its text format.
    ///
    /// The string is allocated at its final size and the key digits are written into it
    /// directly, so no reallocation or temporary string leaves key material in freed
    /// memory.
    pub fn to_text(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let preamble =
            format!("{HEADER}\n# mqseal local keyring: keep this file private (mode 0600)\n");
        let key_line = |name: &str, version: u32| format!("key {name} {version} ");
        let primary_line = |name: &str, primary: u32| format!("primary {name} {primary}\n");
        let mut len = preamble.len();
        for (name, entry) in &self.keys {
            for version in entry.versions.keys() {
                len += key_line(name, *version).len() + KEY_LEN * 2 + 1;
            }
            len += primary_line(name, entry.primary).len();
        }
        let mut out = Zeroizing::new(String::with_capacity(len));
        out.push_str(&preamble);
        for (name, entry) in &self.keys {
            for (version, key) in &entry.versions {
                out.push_str(&key_line(name, *version));
                for b in key.iter() {
                    out.push(char::from(DIGITS[usize::from(b >> 4)]));
                    out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
                }
                out.push('\n');
            }
            out.push_str(&primary_line(name, entry.primary));
        }
        debug_assert_eq!(out.len(), len, "the keyring text has its computed length");
        out
    }

    /// Adds key `name` with a random version 1 KEK; fails if the name exists.
    pub fn generate(&mut self, name: &str) -> Result<u32> {
        check_name(name)?;
        if self.keys.contains_key(name) {
            return Err(Error::invalid(format!(
                "key {name} already exists in the keyring; use rotate to add a version"
            )));
        }
        let mut entry = KeyEntry::default();
        entry.versions.insert(1, random_key()?);
        entry.primary = 1;
        self.keys.insert(name.to_owned(), entry);
        Ok(1)
    }

    /// Adds a new random version of key `name` and makes it primary; returns the version.
    pub fn rotate(&mut self, name: &str) -> Result<u32> {
        let entry = self.keys.get_mut(name).ok_or_else(|| key_not_found(name))?;
        let next = entry
            .versions
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| {
                Error::invalid(format!("key {name} has reached the maximum version number"))
            })?;
        entry.versions.insert(next, random_key()?);
        entry.primary = next;
        Ok(next)
    }

    /// Returns the key names with their versions and primary version.
    pub fn list(&self) -> Vec<(String, Vec<u32>, u32)> {
        self.keys
            .iter()
            .map(|(n, e)| (n.clone(), e.versions.keys().copied().collect(), e.primary))
            .collect()
    }

    fn primary(&self, name: &str) -> Result<(u32, &Zeroizing<[u8; KEY_LEN]>)> {
        let entry = self.keys.get(name).ok_or_else(|| key_not_found(name))?;
        let key = entry
            .versions
            .get(&entry.primary)
            .ok_or_else(|| Error::internal(format!("primary version of {name} is missing")))?;
        Ok((entry.primary, key))
    }

    fn version(&self, name: &str, version: u32) -> Result<&Zeroizing<[u8; KEY_LEN]>> {
        let entry = self.keys.get(name).ok_or_else(|| key_not_found(name))?;
        entry.versions.get(&version).ok_or_else(|| {
            Error::new(
                ErrorCode::KeyVersionNotFound,
                format!(
                    "keyring has key {name} but not version {version} (it has versions {:?}); \
                     restore that version into the keyring file",
                    entry.versions.keys().collect::<Vec<_>>()
                ),
            )
        })
    }
}

impl fmt::Debug for KeyringFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, e) in &self.keys {
            m.entry(
                name,
                &format_args!(
                    "versions {:?}, primary {}",
                    e.versions.keys().collect::<Vec<_>>(),
                    e.primary
                ),
            );
        }
        m.finish()
    }
}

fn kek_cipher(kek: &[u8; KEY_LEN]) -> Result<aes_kw::AesKw<aes_kw::aes::Aes256>> {
    aes_kw::AesKw::<aes_kw::aes::Aes256>::new_from_slice(kek)
        .map_err(|_| Error::internal("AES key wrap rejected a 32-byte key"))
}

fn parse_version(s: &str, line: usize) -> Result<u32> {
    s.parse::<u32>().ok().filter(|v| *v > 0).ok_or_else(|| {
        Error::config(format!(
            "keyring line {line}: the version must be a positive integer"
        ))
    })
}

fn key_not_found(name: &str) -> Error {
    Error::new(
        ErrorCode::KeyNotFound,
        format!(
            "key {name} is not in the keyring; create it with `mqseal keygen --keyring PATH --name {name}`"
        ),
    )
}

fn random_key() -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let dek = DataKey::generate()?;
    Ok(Zeroizing::new(*dek.as_bytes()))
}

/// Reads a keyring file, rejecting one that group or others can read or write.
pub(crate) fn read_private_file(path: &Path) -> Result<Zeroizing<String>> {
    if let Err(e) = fs::metadata(path) {
        return Err(Error::config(format!(
            "cannot read keyring {}: {e}; create it with `mqseal keygen`",
            path.display()
        )));
    }
    read_owner_only_file(path, "keyring")
}

/// Reads a secret file (`what` names it in errors), rejecting one that group or others
/// can read or write.
pub(crate) fn read_owner_only_file(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    let meta = fs::metadata(path)
        .map_err(|e| Error::config(format!("cannot read {what} {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::config(format!(
                "{what} {} has mode {mode:04o}, so other users can access it; run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    let _ = meta;
    let text = fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {what} {}: {e}", path.display())))?;
    Ok(Zeroizing::new(text))
}

/// Writes a keyring file atomically with mode 0600.
pub(crate) fn write_private_file(path: &Path, file: &KeyringFile) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("keyring"),
        std::process::id()
    ));
    let fail =
        |e: std::io::Error| Error::config(format!("cannot write keyring {}: {e}", path.display()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = fs::remove_file(&tmp);
    let mut f = options.open(&tmp).map_err(fail)?;
    let written = f
        .write_all(file.to_text().as_bytes())
        .and_then(|_| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    fs::rename(&tmp, path).map_err(fail)
}

/// The local keyring provider, backed by a keyring file.
///
/// On an unwrap that names a key or version it does not hold, it re-reads the file once,
/// so consumers pick up versions added by `mqseal rotate` without a restart.
pub struct LocalKeyring {
    path: Option<PathBuf>,
    file: RwLock<KeyringFile>,
}

impl LocalKeyring {
    /// Opens the keyring file at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<LocalKeyring> {
        let path = path.into();
        let file = KeyringFile::parse(&read_private_file(&path)?)?;
        Ok(LocalKeyring {
            path: Some(path),
            file: RwLock::new(file),
        })
    }

    /// Creates a keyring held in memory only (tests, examples).
    pub fn from_file(file: KeyringFile) -> LocalKeyring {
        LocalKeyring {
            path: None,
            file: RwLock::new(file),
        }
    }

    /// Creates or updates the keyring file at `path`: adds key `name` if it is absent,
    /// otherwise fails. Returns the new version.
    pub fn generate_in_file(path: &Path, name: &str) -> Result<u32> {
        let mut file = if path.exists() {
            KeyringFile::parse(&read_private_file(path)?)?
        } else {
            KeyringFile::default()
        };
        let version = file.generate(name)?;
        write_private_file(path, &file)?;
        Ok(version)
    }

    /// Adds a new primary version of key `name` to the keyring file at `path`.
    pub fn rotate_in_file(path: &Path, name: &str) -> Result<u32> {
        let mut file = KeyringFile::parse(&read_private_file(path)?)?;
        let version = file.rotate(name)?;
        write_private_file(path, &file)?;
        Ok(version)
    }

    /// Re-reads the keyring file, when the keyring has one.
    pub fn reload(&self) -> Result<()> {
        if let Some(path) = &self.path {
            let file = KeyringFile::parse(&read_private_file(path)?)?;
            *self
                .file
                .write()
                .map_err(|_| Error::internal("keyring lock poisoned"))? = file;
        }
        Ok(())
    }

    /// Returns the key names with their versions and primary version (no key bytes).
    pub fn list(&self) -> Result<Vec<(String, Vec<u32>, u32)>> {
        Ok(self.read()?.list())
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, KeyringFile>> {
        self.file
            .read()
            .map_err(|_| Error::internal("keyring lock poisoned"))
    }

    fn unwrap_with(file: &KeyringFile, wrapped: &WrappedKey) -> Result<DataKey> {
        let kek = file.version(&wrapped.key_id, wrapped.key_version)?;
        if wrapped.ciphertext.len() != WRAPPED_LEN {
            return Err(Error::new(
                ErrorCode::MalformedEnvelope,
                format!(
                    "keyring-wrapped keys are {WRAPPED_LEN} bytes, but the envelope holds {} bytes for key {}",
                    wrapped.ciphertext.len(),
                    wrapped.key_id
                ),
            ));
        }
        let kw = kek_cipher(kek)?;
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        kw.unwrap_key(&wrapped.ciphertext, out.as_mut()).map_err(|_| {
            Error::new(
                ErrorCode::AuthenticationFailed,
                format!(
                    "key {} version {} failed to unwrap the data key: the wrapped key was modified or \
                     the keyring holds a different key under that name",
                    wrapped.key_id, wrapped.key_version
                ),
            )
        })?;
        DataKey::from_slice(out.as_ref())
    }
}

impl fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyProvider for LocalKeyring {
    fn kind(&self) -> &str {
        "keyring"
    }

    /// Recognizes every valid key name except the ids of other providers: AWS KMS ARNs
    /// and aliases (`arn:`, `alias/`) and PKCS#11 labels (`pkcs11:`).
    fn recognizes(&self, key_id: &str) -> bool {
        is_valid_name(key_id) && !FOREIGN_PREFIXES.iter().any(|p| key_id.starts_with(p))
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey> {
        let file = self.read()?;
        let (version, kek) = file.primary(key_id)?;
        let kw = kek_cipher(kek)?;
        let mut out = vec![0u8; WRAPPED_LEN];
        kw.wrap_key(dek.as_bytes(), &mut out)
            .map_err(|_| Error::internal("AES key wrap rejected a 32-byte key"))?;
        Ok(WrappedKey {
            key_id: key_id.to_owned(),
            key_version: version,
            ciphertext: out,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        let first = Self::unwrap_with(&*self.read()?, wrapped);
        match first {
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::KeyNotFound | ErrorCode::KeyVersionNotFound
                ) && self.path.is_some() =>
            {
                self.reload()?;
                Self::unwrap_with(&*self.read()?, wrapped)
            }
            other => other,
        }
    }

    fn primary_version(&self, key_id: &str) -> Result<Option<u32>> {
        Ok(Some(self.read()?.primary(key_id)?.0))
    }

    fn refresh(&self) -> Result<()> {
        self.reload()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serialize_round_trip() {
        let mut f = KeyringFile::default();
        f.generate("orders").expect("generate");
        f.rotate("orders").expect("rotate");
        let text = f.to_text();
        let g = KeyringFile::parse(&text).expect("parse");
        assert_eq!(g.list(), vec![("orders".to_owned(), vec![1, 2], 2)]);
    }

    #[test]
    fn parse_errors_never_echo_keys() {
        let text = "mqseal-keyring 1\nkey a 1 zz00112233445566778899aabbccddeeff00112233445566778899aabbccdd\n";
        let e = KeyringFile::parse(text).expect_err("bad hex");
        assert!(!e.message().contains("00112233"), "{}", e.message());
        assert!(e.message().contains("line 2"));
    }

    #[test]
    fn parse_errors_never_echo_fields() {
        let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let cases = [
            format!("mqseal-keyring 1\nkey k {key} 1\n"),
            format!("mqseal-keyring 1\nkey {key}! 1 {key}\n"),
            format!("mqseal-keyring 1\nprimary {key} 1\n"),
            format!("mqseal-keyring 1\nkey {key} 1 {key}\nkey {key} 1 {key}\n"),
        ];
        for text in &cases {
            let e = KeyringFile::parse(text).expect_err("invalid keyring");
            assert!(!e.message().contains("00112233"), "{}", e.message());
            assert!(e.message().contains("line 2") || e.message().contains("line 3"));
        }
    }

    #[test]
    fn wrap_unwrap_and_versions() {
        let mut f = KeyringFile::default();
        f.generate("k").expect("generate");
        let ring = LocalKeyring::from_file(f.clone());
        let dek = DataKey::generate().expect("random");
        let w1 = ring.wrap("k", &dek).expect("wrap");
        assert_eq!(w1.key_version, 1);
        assert_eq!(w1.ciphertext.len(), 40);
        assert_eq!(ring.unwrap(&w1).expect("unwrap").as_bytes(), dek.as_bytes());

        f.rotate("k").expect("rotate");
        let ring2 = LocalKeyring::from_file(f);
        let w2 = ring2.wrap("k", &dek).expect("wrap v2");
        assert_eq!(w2.key_version, 2);
        assert_eq!(
            ring2
                .unwrap(&w1)
                .expect("old version still unwraps")
                .as_bytes(),
            dek.as_bytes()
        );
        let e = ring.unwrap(&w2).expect_err("v2 unknown to old keyring");
        assert_eq!(e.code(), ErrorCode::KeyVersionNotFound);
        let mut tampered = w1.clone();
        tampered.ciphertext[5] ^= 1;
        assert_eq!(
            ring.unwrap(&tampered).expect_err("tampered").code(),
            ErrorCode::AuthenticationFailed
        );
        let missing = WrappedKey {
            key_id: "nope".into(),
            ..w1
        };
        assert_eq!(
            ring.unwrap(&missing).expect_err("unknown").code(),
            ErrorCode::KeyNotFound
        );
    }

    #[cfg(unix)]
    #[test]
    fn rejects_group_readable_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mqseal-keyring-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("ring");
        let _ = fs::remove_file(&path);
        LocalKeyring::generate_in_file(&path, "k").expect("create");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(LocalKeyring::open(&path).is_ok());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let e = LocalKeyring::open(&path).expect_err("group readable");
        assert_eq!(e.code(), ErrorCode::InvalidConfig);
        assert!(e.message().contains("chmod 600"));
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
