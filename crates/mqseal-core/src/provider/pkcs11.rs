//! The PKCS#11 provider: KEKs that live inside a hardware security module or a software
//! token (SoftHSM2) and never leave it.
//!
//! # Key ids and versions
//!
//! A key id is `pkcs11:<label>`. Each version of the KEK is its own AES-256 secret-key
//! object in the token, with `CKA_LABEL = <label>`. Its `CKA_ID` contains the version as
//! a big-endian number of 1 to 4 bytes, so both `00000001` (which mqseal writes) and
//! `01` are version 1. Rotation adds an object with the next version; older
//! objects stay, so envelopes wrapped under them still decrypt. The primary version is
//! the highest. [`Pkcs11Provider::generate_key`] and [`Pkcs11Provider::rotate_key`]
//! create the objects as token objects with `CKA_SENSITIVE = true`,
//! `CKA_EXTRACTABLE = false`, `CKA_WRAP = CKA_UNWRAP = true` and
//! `CKA_ENCRYPT = CKA_DECRYPT = false`: the key value can never be read, and the key
//! serves no purpose other than wrapping keys.
//!
//! # Mechanism
//!
//! Data keys are wrapped in the token with `CKM_AES_KEY_WRAP` (RFC 3394), which
//! SoftHSM2 2.6.1 implements for `C_WrapKey` and `C_UnwrapKey`. A data key is 32
//! bytes, a multiple of the 8-byte semiblock, so the padding variant
//! (`CKM_AES_KEY_WRAP_PAD`, RFC 5649) adds nothing. The wrapped key is 40 bytes, the
//! same format the local keyring writes (a test checks that the two are equal). RFC 3394 carries an integrity check, so a
//! modified wrapped key fails to unwrap (`authentication_failed`) instead of yielding a
//! wrong key. AES-GCM through `C_Encrypt` would need the KEK to allow `CKA_ENCRYPT`
//! and `CKA_DECRYPT` on arbitrary data, which a key-wrapping key should not.
//!
//! # How the data key travels
//!
//! mqseal encrypts message bodies in-process, so the plaintext data key must pass
//! between the process and the token in both directions:
//!
//! - wrap: the data key is imported as a session object (`CKA_TOKEN = false`,
//!   extractable), wrapped with `C_WrapKey` under the KEK, and destroyed at once;
//! - unwrap: `C_UnwrapKey` creates a session object that is extractable and not
//!   sensitive, its `CKA_VALUE` is read, and the object is destroyed at once.
//!
//! Session objects are never stored on the token and vanish with their session. A
//! KEK whose `CKA_UNWRAP_TEMPLATE` forces unwrapped keys to be sensitive cannot serve
//! mqseal, because the data key could not be read back (`provider_invalid_response`).
//!
//! # Sessions and errors
//!
//! One provider loads the module once per process (shared by every provider on the
//! same module path) and keeps a pool of read-only sessions: a call takes a session,
//! or opens and logs in a new one, and returns it afterwards. The PIN is kept in memory
//! for those logins and is never printed. After a token error (a closed or invalid
//! session, a removed or failing device, a logout, an object handle that went stale)
//! the provider drops every pooled session and cached handle, finds the token again by
//! its label, and retries the call once. In a forked child, the first call forgets
//! the parent's sessions without closing them and calls `C_Initialize` again, as
//! PKCS#11 requires. Once the token rejects the PIN, the provider tries no further
//! login, so it cannot lock the PIN. Errors map to mqseal's codes:
//! device and session faults are `provider_unavailable` (retryable); a wrong, locked or
//! expired PIN, a missing login and key attributes that forbid the operation are
//! `provider_denied`; a label or version without an object is `key_not_found` or
//! `key_version_not_found`; a wrapped key that fails its integrity check is
//! `authentication_failed`. Messages name the PKCS#11 return value, the token and the
//! key id, never key bytes or the PIN.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::{AuthPin, Ulong};
use zeroize::{Zeroize, Zeroizing};

use super::KeyProvider;
use super::keyring::read_owner_only_file;
use crate::config::{PinSource, Pkcs11Settings};
use crate::dek::{DataKey, WrappedKey};
use crate::error::{Error, ErrorCode, Result, quote_short};
use crate::fork;
use crate::suite::KEY_LEN;

/// The prefix of every key id this provider holds.
pub const KEY_ID_PREFIX: &str = "pkcs11:";

const WRAPPED_LEN: usize = KEY_LEN + 8;
/// Idle sessions kept open for later calls; more are closed when returned.
const MAX_IDLE_SESSIONS: usize = 16;

/// Returns the object label of a `pkcs11:<label>` key id, when the id is well formed.
fn label_of(key_id: &str) -> Option<&str> {
    let label = key_id.strip_prefix(KEY_ID_PREFIX)?;
    let valid = !label.is_empty()
        && label.len() <= 255 - KEY_ID_PREFIX.len()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b));
    valid.then_some(label)
}

fn checked_label(key_id: &str) -> Result<&str> {
    label_of(key_id).ok_or_else(|| {
        Error::invalid(format!(
            "key id {} is not a PKCS#11 key id: write pkcs11:<label>, where the label has 1 to \
             248 characters from A-Z, a-z, 0-9 and - _ . : /",
            quote_short(key_id)
        ))
    })
}

/// Encodes a version as the 4-byte big-endian `CKA_ID`.
fn version_id(version: u32) -> Vec<u8> {
    version.to_be_bytes().to_vec()
}

/// Decodes a `CKA_ID` of 1 to 4 bytes as a big-endian version; other ids are not
/// versions and are ignored.
fn parse_version_id(id: &[u8]) -> Option<u32> {
    if id.is_empty() || id.len() > 4 {
        return None;
    }
    let v = id.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    (v > 0).then_some(v)
}

/// Returns `CKR_PIN_INCORRECT` for `RvError::PinIncorrect`: the PKCS#11 name of a
/// return value.
fn ckr_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(v) => format!("CKR_VENDOR_DEFINED 0x{v:x}"),
        RvError::UnknownErrorCode(v) => format!("CKR 0x{v:x}"),
        other => {
            let camel = format!("{other:?}");
            let mut out = String::from("CKR");
            for c in camel.chars() {
                if c.is_ascii_uppercase() {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
    }
}

/// Loads and initializes the module at `path` once per process and keeps it loaded,
/// because a second `C_Initialize` on the same library fails, and `C_Finalize` would
/// close the sessions of every other provider on it.
fn load_module(path: &Path) -> Result<Pkcs11> {
    // Each module with the fork generation that last initialized it.
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, (Pkcs11, u64)>>> = OnceLock::new();
    let canonical = path.canonicalize().map_err(|e| {
        Error::config(format!(
            "pkcs11.module = {} cannot be opened: {e}; give the path of the token's PKCS#11 \
             library (for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
            path.display()
        ))
    })?;
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .map_err(|_| Error::internal("PKCS#11 module table lock poisoned"))?;
    let generation = fork::generation();
    if let Some((ctx, initialized_in)) = modules.get_mut(&canonical) {
        if *initialized_in != generation {
            // A forked child initializes the module again before using it.
            initialize(ctx)?;
            *initialized_in = generation;
        }
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| {
        Error::config(format!(
            "pkcs11.module = {} is not a loadable PKCS#11 library: {e}",
            path.display()
        ))
    })?;
    initialize(&ctx)?;
    modules.insert(canonical, (ctx.clone(), generation));
    Ok(ctx)
}

/// Calls `C_Initialize` with OS locking; a library that is already initialized is fine.
fn initialize(ctx: &Pkcs11) -> Result<()> {
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(()),
        Err(e) => Err(Error::new(
            ErrorCode::ProviderUnavailable,
            format!("the PKCS#11 module failed to initialize: {e}"),
        )),
    }
}

fn read_pin(source: &PinSource) -> Result<AuthPin> {
    let pin: Zeroizing<String> = match source {
        PinSource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|_| {
            Error::config(format!(
                "pkcs11.pin_env names the environment variable {name}, which is not set or not \
                 UTF-8; export the token's user PIN in it"
            ))
        })?),
        PinSource::File(path) => {
            let text = read_owner_only_file(path, "PIN file (pkcs11.pin_file)")?;
            Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned())
        }
    };
    if pin.is_empty() {
        return Err(Error::config(
            "the configured PKCS#11 user PIN is empty; put the token's user PIN in the variable \
             or file the configuration names",
        ));
    }
    Ok(AuthPin::from(pin.as_str()))
}

/// A failure inside a token operation: a PKCS#11 error still to be classified, or an
/// mqseal error that is final.
enum Fail {
    Ck(CkError),
    Final(Error),
}

impl From<CkError> for Fail {
    fn from(e: CkError) -> Fail {
        Fail::Ck(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Final(e)
    }
}

type OpResult<T> = std::result::Result<T, Fail>;

/// Returns true for errors after which a fresh session (and login) may succeed.
fn needs_reconnect(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::CryptokiNotInitialized
                | RvError::UserNotLoggedIn
                | RvError::GeneralError
                | RvError::FunctionFailed
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid
                | RvError::WrappingKeyHandleInvalid
                | RvError::UnwrappingKeyHandleInvalid,
            _
        )
    )
}

/// Returns true when the session's application is logged in as the user.
fn logged_in(s: &Session) -> OpResult<bool> {
    let state = s.get_session_info()?.session_state();
    Ok(matches!(state, SessionState::RoUser | SessionState::RwUser))
}

/// A provider whose KEKs are AES-256 key objects in a PKCS#11 token.
pub struct Pkcs11Provider {
    ctx: Pkcs11,
    module: PathBuf,
    token_label: String,
    pin: AuthPin,
    slot: Mutex<Option<Slot>>,
    idle: Mutex<Vec<Session>>,
    /// Object handles per label and version, filled by lookups.
    handles: RwLock<HashMap<String, BTreeMap<u32, ObjectHandle>>>,
    /// Set once `open` found the token: a token missing later is unavailable, not a
    /// configuration error.
    opened: AtomicBool,
    /// Fork generation (`crate::fork`) of the process that opened the pooled sessions.
    fork_generation: AtomicU64,
    /// Set when the token rejected the PIN: no further login is tried, because many
    /// tokens lock the PIN after a few failed logins.
    pin_rejected: AtomicBool,
}

impl fmt::Debug for Pkcs11Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Provider")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Provider {
    /// Loads the module, finds the token by its label and logs in once, so that a wrong
    /// PIN or label fails here rather than on the first message.
    pub fn open(settings: &Pkcs11Settings) -> Result<Pkcs11Provider> {
        fork::install();
        let pin = read_pin(&settings.pin)?;
        let ctx = load_module(&settings.module)?;
        let provider = Pkcs11Provider {
            ctx,
            module: settings.module.clone(),
            token_label: settings.token_label.clone(),
            pin,
            slot: Mutex::new(None),
            idle: Mutex::new(Vec::new()),
            handles: RwLock::new(HashMap::new()),
            opened: AtomicBool::new(false),
            fork_generation: AtomicU64::new(fork::generation()),
            pin_rejected: AtomicBool::new(false),
        };
        let session = provider.open_session(false)?;
        provider.put_back(session);
        provider.opened.store(true, Ordering::Relaxed);
        Ok(provider)
    }

    /// Returns the token label this provider uses.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// Creates version 1 of KEK `key_id` (`pkcs11:<label>`) in the token; fails when
    /// the label already has a version.
    pub fn generate_key(&self, key_id: &str) -> Result<u32> {
        let label = checked_label(key_id)?;
        self.create_version(key_id, label, |versions| {
            if let Some(last) = versions.keys().next_back() {
                return Err(Error::invalid(format!(
                    "key {key_id} already exists in token {} (versions up to {last}); use rotate \
                     to add a version",
                    self.token_label
                )));
            }
            Ok(1)
        })
    }

    /// Creates the next version of KEK `key_id` in the token, which becomes primary.
    pub fn rotate_key(&self, key_id: &str) -> Result<u32> {
        let label = checked_label(key_id)?;
        self.create_version(key_id, label, |versions| {
            let last = versions
                .keys()
                .next_back()
                .ok_or_else(|| self.key_not_found(key_id))?;
            last.checked_add(1).ok_or_else(|| {
                Error::invalid(format!(
                    "key {key_id} has reached the maximum version number"
                ))
            })
        })
    }

    /// Returns the versions of KEK `key_id` present in the token, in ascending order.
    pub fn versions(&self, key_id: &str) -> Result<Vec<u32>> {
        let label = checked_label(key_id)?;
        let found = self.with_session("listing key versions", key_id, |s| {
            self.find_versions(s, label)
        })?;
        Ok(found.into_keys().collect())
    }

    /// Lists the KEKs in the token: each key id with its versions and its primary
    /// (highest) version. AES keys whose label or `CKA_ID` does not fit the
    /// `pkcs11:<label>` scheme are left out.
    pub fn list(&self) -> Result<Vec<(String, Vec<u32>, u32)>> {
        let found = self.with_session("listing keys", "", |s| {
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
            ];
            let handles = s.find_objects(&template)?;
            if handles.is_empty() && !logged_in(s)? {
                return Err(Fail::Ck(CkError::Pkcs11(
                    RvError::UserNotLoggedIn,
                    Function::FindObjects,
                )));
            }
            let mut keys: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for handle in handles {
                let attrs = s.get_attributes(handle, &[AttributeType::Label, AttributeType::Id])?;
                let mut label = None;
                let mut version = None;
                for attr in &attrs {
                    match attr {
                        Attribute::Label(l) => label = String::from_utf8(l.clone()).ok(),
                        Attribute::Id(id) => version = parse_version_id(id),
                        _ => {}
                    }
                }
                if let (Some(label), Some(version)) = (label, version) {
                    let key_id = format!("{KEY_ID_PREFIX}{label}");
                    if label_of(&key_id).is_some() {
                        keys.entry(key_id).or_default().push(version);
                    }
                }
            }
            Ok(keys)
        })?;
        Ok(found
            .into_iter()
            .map(|(key_id, mut versions)| {
                versions.sort_unstable();
                let primary = versions.last().copied().unwrap_or(0);
                (key_id, versions, primary)
            })
            .collect())
    }

    fn create_version(
        &self,
        key_id: &str,
        label: &str,
        next: impl Fn(&BTreeMap<u32, ObjectHandle>) -> Result<u32>,
    ) -> Result<u32> {
        // SoftHSM2 2.6.1 sometimes fails to store a new token object with
        // CKR_GENERAL_ERROR while other threads use the token. A failed attempt is
        // retried, and a retry first checks whether the version exists after all.
        const ATTEMPTS: usize = 3;
        let mut planned: Option<u32> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_create_version(label, &next, &mut planned) {
                Ok(version) => {
                    self.forget_handles(label);
                    return Ok(version);
                }
                Err(Fail::Final(e)) => return Err(e),
                Err(Fail::Ck(CkError::Pkcs11(
                    RvError::GeneralError | RvError::FunctionFailed,
                    _,
                ))) if attempt < ATTEMPTS => {}
                Err(Fail::Ck(e)) => {
                    return Err(self.map_error(&e, "creating a key version", key_id));
                }
            }
        }
    }

    /// Generates the KEK object of the next version in a new read-write session (token
    /// objects need one; it is not pooled). `planned` keeps the version across retries.
    fn try_create_version(
        &self,
        label: &str,
        next: &impl Fn(&BTreeMap<u32, ObjectHandle>) -> Result<u32>,
        planned: &mut Option<u32>,
    ) -> OpResult<u32> {
        let session = self.open_session(true)?;
        let versions = self.find_versions(&session, label)?;
        let version = match *planned {
            Some(v) if versions.contains_key(&v) => return Ok(v),
            Some(v) => v,
            None => next(&versions)?,
        };
        *planned = Some(version);
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(Ulong::try_from(KEY_LEN)?),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Encrypt(false),
            Attribute::Decrypt(false),
            Attribute::Sign(false),
            Attribute::Verify(false),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(version_id(version)),
        ];
        session.generate_key(&Mechanism::AesKeyGen, &template)?;
        Ok(version)
    }

    fn key_not_found(&self, key_id: &str) -> Error {
        Error::new(
            ErrorCode::KeyNotFound,
            format!(
                "token {} holds no AES key for {key_id} (an object labelled {} with a CKA_ID of 1 \
                 to 4 bytes naming its version); create it with `mqseal keygen --config FILE \
                 --name {key_id}`",
                self.token_label,
                key_id.trim_start_matches(KEY_ID_PREFIX)
            ),
        )
    }

    fn lock_idle(&self) -> Result<MutexGuard<'_, Vec<Session>>> {
        self.idle
            .lock()
            .map_err(|_| Error::internal("PKCS#11 session pool lock poisoned"))
    }

    fn find_slot(&self) -> Result<Slot> {
        let mut cached = self
            .slot
            .lock()
            .map_err(|_| Error::internal("PKCS#11 slot lock poisoned"))?;
        if let Some(slot) = *cached {
            return Ok(slot);
        }
        let slots = self
            .ctx
            .get_slots_with_initialized_token()
            .map_err(|e| self.map_error(&e, "listing the slots", ""))?;
        let mut labels = Vec::new();
        let mut matches = Vec::new();
        for slot in slots {
            let info = self
                .ctx
                .get_token_info(slot)
                .map_err(|e| self.map_error(&e, "reading token information", ""))?;
            let label = info.label().trim_end().to_owned();
            if label == self.token_label {
                matches.push(slot);
            }
            labels.push(label);
        }
        match matches.as_slice() {
            [slot] => {
                *cached = Some(*slot);
                Ok(*slot)
            }
            [] if self.opened.load(Ordering::Relaxed) => Err(Error::new(
                ErrorCode::ProviderUnavailable,
                format!(
                    "token {:?} is no longer present in {} (tokens present: {:?}); reconnect \
                     the token",
                    self.token_label,
                    self.module.display(),
                    labels
                ),
            )),
            [] => Err(Error::config(format!(
                "no initialized token labelled {:?} is present in {} (tokens present: {:?}); \
                 check pkcs11.token_label, or initialize the token",
                self.token_label,
                self.module.display(),
                labels
            ))),
            _ => Err(Error::config(format!(
                "{} tokens are labelled {:?} in {}; give each token a unique label",
                matches.len(),
                self.token_label,
                self.module.display()
            ))),
        }
    }

    /// Opens a session on the token and logs the user in. The login is shared by every
    /// session of the process, so an existing login is fine.
    fn open_session(&self, read_write: bool) -> Result<Session> {
        if self.pin_rejected.load(Ordering::Relaxed) {
            return Err(Error::new(
                ErrorCode::ProviderDenied,
                format!(
                    "token {} rejected the configured user PIN earlier, so mqseal tries no \
                     further login, which could lock the PIN; correct the PIN that \
                     pkcs11.pin_env or pkcs11.pin_file supplies and restart the process",
                    self.token_label
                ),
            ));
        }
        let slot = self.find_slot()?;
        let opened = if read_write {
            self.ctx.open_rw_session(slot)
        } else {
            self.ctx.open_ro_session(slot)
        };
        let session = opened.map_err(|e| {
            self.forget_slot();
            self.map_error(&e, "opening a session", "")
        })?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => {
                if let CkError::Pkcs11(
                    RvError::PinIncorrect
                    | RvError::PinInvalid
                    | RvError::PinLenRange
                    | RvError::PinExpired
                    | RvError::PinLocked,
                    _,
                ) = e
                {
                    self.pin_rejected.store(true, Ordering::Relaxed);
                }
                Err(self.map_error(&e, "logging in with the user PIN", ""))
            }
        }
    }

    fn take_session(&self) -> Result<Session> {
        let generation = fork::generation();
        if self.fork_generation.load(Ordering::Acquire) != generation {
            self.start_after_fork(generation)?;
        }
        if let Some(s) = self.lock_idle()?.pop() {
            return Ok(s);
        }
        self.open_session(false)
    }

    /// Makes a forked child start afresh, as PKCS#11 requires: the parent's sessions are
    /// forgotten without `C_CloseSession` (which could close them for the parent, with a
    /// module that talks to a remote HSM), and the module is initialized again.
    // NOTE: with SoftHSM2 a child also recovers without this, through the reconnect
    // after CKR_CRYPTOKI_NOT_INITIALIZED, so the fork test cannot tell the two apart.
    fn start_after_fork(&self, generation: u64) -> Result<()> {
        let mut idle = self.lock_idle()?;
        if self.fork_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        for session in idle.drain(..) {
            std::mem::forget(session);
        }
        if let Ok(mut h) = self.handles.write() {
            h.clear();
        }
        self.forget_slot();
        initialize(&self.ctx)?;
        self.fork_generation.store(generation, Ordering::Release);
        Ok(())
    }

    fn put_back(&self, session: Session) {
        if let Ok(mut idle) = self.lock_idle()
            && idle.len() < MAX_IDLE_SESSIONS
        {
            idle.push(session);
        }
    }

    fn forget_slot(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = None;
        }
    }

    fn forget_handles(&self, label: &str) {
        if let Ok(mut h) = self.handles.write() {
            h.remove(label);
        }
    }

    /// Drops every pooled session, cached handle and the slot, after a token error.
    fn reset(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        if let Ok(mut h) = self.handles.write() {
            h.clear();
        }
        self.forget_slot();
    }

    /// Runs `op` on a pooled session. After an error that a new session may cure, drops
    /// the session state and runs `op` once more on a fresh session.
    fn with_session<T>(
        &self,
        what: &str,
        key_id: &str,
        op: impl Fn(&Session) -> OpResult<T>,
    ) -> Result<T> {
        let mut retried = false;
        loop {
            let session = self.take_session()?;
            match op(&session) {
                Ok(v) => {
                    self.put_back(session);
                    return Ok(v);
                }
                Err(Fail::Final(e)) => {
                    self.put_back(session);
                    return Err(e);
                }
                Err(Fail::Ck(e)) if !retried && needs_reconnect(&e) => {
                    drop(session);
                    self.reset();
                    if matches!(e, CkError::Pkcs11(RvError::CryptokiNotInitialized, _)) {
                        initialize(&self.ctx)?;
                    }
                    retried = true;
                }
                Err(Fail::Ck(e)) => {
                    // The session may hold a half-finished operation or a session
                    // object: close it rather than pool it.
                    drop(session);
                    return Err(self.map_error(&e, what, key_id));
                }
            }
        }
    }

    /// Finds every version of the KEK labelled `label` and caches their handles.
    fn find_versions(&self, s: &Session, label: &str) -> OpResult<BTreeMap<u32, ObjectHandle>> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let mut versions = BTreeMap::new();
        let found = s.find_objects(&template)?;
        if found.is_empty() && !logged_in(s)? {
            // Private objects are invisible after a logout: log in again, then look.
            return Err(Fail::Ck(CkError::Pkcs11(
                RvError::UserNotLoggedIn,
                Function::FindObjects,
            )));
        }
        for handle in found {
            let attrs = s.get_attributes(handle, &[AttributeType::Id])?;
            let Some(version) = attrs.iter().find_map(|a| match a {
                Attribute::Id(id) => parse_version_id(id),
                _ => None,
            }) else {
                continue;
            };
            if versions.insert(version, handle).is_some() {
                return Err(Fail::Final(Error::new(
                    ErrorCode::ProviderInvalidResponse,
                    format!(
                        "token {} holds two AES keys labelled {label} with version {version} \
                         (CKA_ID); delete the one that did not wrap existing data keys",
                        self.token_label
                    ),
                )));
            }
        }
        if let Ok(mut h) = self.handles.write() {
            h.insert(label.to_owned(), versions.clone());
        }
        Ok(versions)
    }

    /// Returns the handle of one version, from the cache or by a fresh lookup. A cached
    /// handle is used only while its object still carries the label and version.
    fn version_handle(&self, s: &Session, key_id: &str, version: u32) -> OpResult<ObjectHandle> {
        let label = checked_label(key_id)?;
        let cached = self
            .handles
            .read()
            .ok()
            .and_then(|h| h.get(label).and_then(|v| v.get(&version)).copied());
        if let Some(h) = cached
            && Self::is_version(s, h, label, version)
        {
            return Ok(h);
        }
        let versions = self.find_versions(s, label)?;
        if let Some(h) = versions.get(&version) {
            return Ok(*h);
        }
        if versions.is_empty() {
            return Err(Fail::Final(self.key_not_found(key_id)));
        }
        Err(Fail::Final(Error::new(
            ErrorCode::KeyVersionNotFound,
            format!(
                "token {} has key {key_id} but not version {version} (it has versions {:?}); \
                 restore that version into the token",
                self.token_label,
                versions.keys().collect::<Vec<_>>()
            ),
        )))
    }

    /// Returns true when `handle` names an object with this label and version. Object
    /// handles can go stale when a key is deleted or the token is re-inserted.
    // NOTE: SoftHSM2 never hands a stale handle to a new object, so the tests reach only
    // the CKR_*_HANDLE_INVALID path; this check guards tokens that reuse handles.
    fn is_version(s: &Session, handle: ObjectHandle, label: &str, version: u32) -> bool {
        let Ok(attrs) = s.get_attributes(handle, &[AttributeType::Label, AttributeType::Id]) else {
            return false;
        };
        let label_matches = attrs.contains(&Attribute::Label(label.as_bytes().to_vec()));
        let version_matches = attrs.iter().any(|a| match a {
            Attribute::Id(id) => parse_version_id(id) == Some(version),
            _ => false,
        });
        label_matches && version_matches
    }

    fn primary(&self, s: &Session, key_id: &str) -> OpResult<(u32, ObjectHandle)> {
        let label = checked_label(key_id)?;
        let versions = self.find_versions(s, label)?;
        versions
            .iter()
            .next_back()
            .map(|(v, h)| (*v, *h))
            .ok_or_else(|| Fail::Final(self.key_not_found(key_id)))
    }

    fn map_error(&self, e: &CkError, what: &str, key_id: &str) -> Error {
        let on = if key_id.is_empty() {
            format!("token {}", self.token_label)
        } else {
            format!("key {key_id} in token {}", self.token_label)
        };
        let CkError::Pkcs11(rv, function) = e else {
            return Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!("PKCS#11 call failed while {what} on {on}: {e}"),
            );
        };
        let name = ckr_name(*rv);
        let call = format!("{function:?}");
        let (code, hint) = match rv {
            RvError::PinIncorrect
            | RvError::PinInvalid
            | RvError::PinLenRange
            | RvError::PinExpired
            | RvError::PinLocked
            | RvError::UserPinNotInitialized
            | RvError::UserNotLoggedIn
            | RvError::UserTypeInvalid
            | RvError::UserAnotherAlreadyLoggedIn => (
                ErrorCode::ProviderDenied,
                "check the user PIN that pkcs11.pin_env or pkcs11.pin_file supplies, and that \
                 the PIN is neither locked nor expired",
            ),
            RvError::KeyFunctionNotPermitted
            | RvError::KeyNotWrappable
            | RvError::KeyUnextractable
            | RvError::AttributeSensitive
            | RvError::ActionProhibited
            | RvError::TokenWriteProtected
            | RvError::SessionReadOnly
            | RvError::FunctionRejected => (
                ErrorCode::ProviderDenied,
                "the key's attributes or the token's policy forbid this: a KEK needs \
                 CKA_WRAP and CKA_UNWRAP, and must not force unwrapped keys to be sensitive",
            ),
            RvError::WrappedKeyInvalid
            | RvError::WrappedKeyLenRange
            | RvError::EncryptedDataInvalid
            | RvError::EncryptedDataLenRange => (
                ErrorCode::AuthenticationFailed,
                "the wrapped key was modified, or the token holds a different key under this \
                 label and version",
            ),
            RvError::KeyHandleInvalid
            | RvError::ObjectHandleInvalid
            | RvError::WrappingKeyHandleInvalid
            | RvError::UnwrappingKeyHandleInvalid => (
                ErrorCode::KeyNotFound,
                "the key object disappeared from the token; restore it",
            ),
            RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::SessionCount
            | RvError::DeviceRemoved
            | RvError::DeviceError
            | RvError::DeviceMemory
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::CryptokiNotInitialized
            | RvError::GeneralError
            | RvError::FunctionFailed
            | RvError::HostMemory
            | RvError::Cancel
            | RvError::FunctionCanceled
            | RvError::OperationActive
            | RvError::SlotIdInvalid => (
                ErrorCode::ProviderUnavailable,
                "the token or its connection failed; the call may succeed once the token is \
                 back",
            ),
            _ => (
                ErrorCode::ProviderInvalidResponse,
                "the token does not support what mqseal needs: an AES-256 KEK and \
                 CKM_AES_KEY_WRAP in C_WrapKey and C_UnwrapKey",
            ),
        };
        Error::new(
            code,
            format!("PKCS#11 C_{call} returned {name} while {what} on {on}; {hint}"),
        )
    }

    /// Wraps `dek` under `kek`: imports it as a session object, wraps it, destroys it.
    fn wrap_in(
        &self,
        s: &Session,
        kek: ObjectHandle,
        dek: &DataKey,
        key_id: &str,
    ) -> OpResult<Vec<u8>> {
        let mut template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Value(dek.as_bytes().to_vec()),
        ];
        let created = s.create_object(&template);
        for attr in &mut template {
            if let Attribute::Value(v) = attr {
                v.zeroize();
            }
        }
        let object = created?;
        let wrapped = s.wrap_key(&Mechanism::AesKeyWrap, kek, object);
        Self::destroy(s, object)?;
        let ciphertext = wrapped?;
        if ciphertext.len() != WRAPPED_LEN {
            return Err(Fail::Final(Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!(
                    "token {} wrapped a data key into {} bytes under {key_id}; CKM_AES_KEY_WRAP \
                     gives {WRAPPED_LEN}",
                    self.token_label,
                    ciphertext.len()
                ),
            )));
        }
        Ok(ciphertext)
    }

    /// Unwraps `ciphertext` under `kek` into a session object, reads its value and
    /// destroys it.
    fn unwrap_in(
        &self,
        s: &Session,
        kek: ObjectHandle,
        ciphertext: &[u8],
        key_id: &str,
    ) -> OpResult<DataKey> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ];
        let object = s.unwrap_key(&Mechanism::AesKeyWrap, kek, ciphertext, &template)?;
        let value = s.get_attributes(object, &[AttributeType::Value]);
        Self::destroy(s, object)?;
        let mut attrs = value?;
        let dek = attrs.iter().find_map(|a| match a {
            Attribute::Value(v) => Some(DataKey::from_slice(v)),
            _ => None,
        });
        for attr in &mut attrs {
            if let Attribute::Value(v) = attr {
                v.zeroize();
            }
        }
        match dek {
            Some(dek) => Ok(dek?),
            None => Err(Fail::Final(Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!(
                    "token {} unwrapped a data key under {key_id} but did not return its value",
                    self.token_label
                ),
            ))),
        }
    }

    /// Wraps and unwraps a fresh random key under `kek`: succeeds when the token and
    /// the KEK work.
    fn probe(&self, s: &Session, kek: ObjectHandle, key_id: &str) -> OpResult<()> {
        let dek = DataKey::generate()?;
        let wrapped = self.wrap_in(s, kek, &dek, key_id)?;
        let back = self.unwrap_in(s, kek, &wrapped, key_id)?;
        if back.as_bytes() == dek.as_bytes() {
            Ok(())
        } else {
            Err(Fail::Final(Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!(
                    "token {} unwrapped a different key than it wrapped under {key_id}",
                    self.token_label
                ),
            )))
        }
    }

    /// Destroys a session object; on failure the caller closes the session, which
    /// destroys it too.
    fn destroy(s: &Session, object: ObjectHandle) -> OpResult<()> {
        s.destroy_object(object)?;
        Ok(())
    }
}

impl KeyProvider for Pkcs11Provider {
    fn kind(&self) -> &str {
        "pkcs11"
    }

    fn recognizes(&self, key_id: &str) -> bool {
        label_of(key_id).is_some()
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey> {
        self.with_session("wrapping a data key", key_id, |s| {
            let (version, kek) = self.primary(s, key_id)?;
            Ok(WrappedKey {
                key_id: key_id.to_owned(),
                key_version: version,
                ciphertext: self.wrap_in(s, kek, dek, key_id)?,
            })
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        let key_id = wrapped.key_id.as_str();
        checked_label(key_id)?;
        if wrapped.ciphertext.len() != WRAPPED_LEN {
            return Err(Error::new(
                ErrorCode::MalformedEnvelope,
                format!(
                    "PKCS#11-wrapped keys are {WRAPPED_LEN} bytes, but the envelope holds {} bytes \
                     for key {key_id}",
                    wrapped.ciphertext.len()
                ),
            ));
        }
        self.with_session("unwrapping a data key", key_id, |s| {
            let kek = self.version_handle(s, key_id, wrapped.key_version)?;
            match self.unwrap_in(s, kek, &wrapped.ciphertext, key_id) {
                Err(Fail::Ck(
                    e @ CkError::Pkcs11(RvError::GeneralError | RvError::FunctionFailed, _),
                )) => {
                    // SoftHSM2 reports a failed integrity check as CKR_GENERAL_ERROR. When
                    // the same KEK wraps and unwraps a fresh key, the token is sound and the
                    // wrapped key is at fault.
                    if self.probe(s, kek, key_id).is_ok() {
                        Err(Fail::Final(Error::new(
                            ErrorCode::AuthenticationFailed,
                            format!(
                                "key {key_id} version {} in token {} failed to unwrap the data \
                                 key, while it wraps and unwraps a fresh key: the wrapped key was \
                                 modified, or the token holds a different key under this label \
                                 and version",
                                wrapped.key_version, self.token_label
                            ),
                        )))
                    } else {
                        Err(Fail::Ck(e))
                    }
                }
                other => other,
            }
        })
    }

    fn primary_version(&self, key_id: &str) -> Result<Option<u32>> {
        self.with_session("finding the primary key version", key_id, |s| {
            Ok(Some(self.primary(s, key_id)?.0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_name_a_label() {
        assert_eq!(label_of("pkcs11:orders"), Some("orders"));
        assert_eq!(label_of("pkcs11:eu/orders.v1"), Some("eu/orders.v1"));
        assert_eq!(label_of("pkcs11:"), None);
        assert_eq!(label_of("orders"), None);
        assert_eq!(label_of("pkcs11:has space"), None);
        assert_eq!(label_of(&format!("pkcs11:{}", "a".repeat(249))), None);
        assert!(label_of(&format!("pkcs11:{}", "a".repeat(248))).is_some());
    }

    #[test]
    fn versions_are_big_endian_ids() {
        assert_eq!(parse_version_id(&version_id(1)), Some(1));
        assert_eq!(parse_version_id(&version_id(258)), Some(258));
        assert_eq!(parse_version_id(&[1]), Some(1));
        assert_eq!(parse_version_id(&[1, 0]), Some(256));
        assert_eq!(parse_version_id(&[]), None);
        assert_eq!(parse_version_id(&[0, 0, 0, 0]), None);
        assert_eq!(parse_version_id(&[0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn return_values_get_their_pkcs11_names() {
        assert_eq!(ckr_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(
            ckr_name(RvError::WrappedKeyInvalid),
            "CKR_WRAPPED_KEY_INVALID"
        );
        assert_eq!(
            ckr_name(RvError::VendorDefined(0x8000_0001)),
            "CKR_VENDOR_DEFINED 0x80000001"
        );
    }
}
