//! `mqseal.Cipher` and `mqseal.Decrypted`.

use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

use mqseal_core::config::{ProviderConfig, Settings};
use mqseal_core::envelope::{FLAG_COMPRESSED, FLAG_SEALED_PROPERTIES};
use mqseal_core::{
    Attributes, CallbackProvider, Cipher, DataKey, DecryptInfo, EncryptOptions, Envelope, Error,
    ErrorCode, KeyProvider, LocalKeyring,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use std::sync::Arc;
use zeroize::Zeroize;

use crate::attrs;
use crate::boundary::{Failure, Outcome, guard, invalid_argument, invalid_config};
use crate::buffer::Input;
use crate::log;
use crate::provider::PyKeyProvider;
use crate::release::{self, Gil};
use crate::settings::Keywords;

/// Encrypts and decrypts message bodies; see `mqseal.Cipher` in the stubs for the API.
///
/// One object is meant to be shared by every thread: the producer's data key and the
/// consumer's key cache live in it. `close()` may run while other threads use it: calls
/// already running finish with their own reference to the core cipher, later calls raise
/// `HandleClosedError`.
#[pyclass(module = "mqseal", name = "Cipher", frozen, weakref)]
pub(crate) struct PyCipher {
    inner: RwLock<Option<Cipher>>,
    /// True when a key provider is Python code. Every core call then runs with the GIL
    /// released ([`Gil::ReleaseAlways`]). The core may hold a lock while it calls the
    /// provider, which needs the GIL, so a thread that waited for that lock with the GIL
    /// held would deadlock.
    calls_python: bool,
}

/// Number of `PyCipher` objects alive.
static LIVE_CIPHERS: AtomicI64 = AtomicI64::new(0);

/// Returns the number of `Cipher` objects alive, closed or not.
pub(crate) fn live_ciphers() -> i64 {
    LIVE_CIPHERS.load(Ordering::SeqCst)
}

impl Drop for PyCipher {
    fn drop(&mut self) {
        LIVE_CIPHERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A decrypted message: the body, the sealed properties and facts from the envelope
/// header. `repr()` shows the body length and property names, never their values.
#[pyclass(module = "mqseal", name = "Decrypted", frozen)]
pub(crate) struct PyDecrypted {
    #[pyo3(get)]
    body: Py<PyBytes>,
    #[pyo3(get)]
    sealed_properties: Py<PyDict>,
    #[pyo3(get)]
    key_id: String,
    #[pyo3(get)]
    key_version: u32,
    #[pyo3(get)]
    suite: String,
    #[pyo3(get)]
    compressed: bool,
}

impl PyCipher {
    fn open(py: Python<'_>, cipher: Cipher, source: &str, calls_python: bool) -> PyCipher {
        log::debug(py, || {
            let config = cipher.config();
            format!(
                "mqseal cipher created from {source}: suite {}, backend {}, key ids {:?}",
                config.suite.name(),
                config.backend.name(),
                config.key_ids
            )
        });
        LIVE_CIPHERS.fetch_add(1, Ordering::SeqCst);
        PyCipher {
            inner: RwLock::new(Some(cipher)),
            calls_python,
        }
    }

    /// Returns how a call on `input` treats the GIL.
    fn gil(&self, input: Option<&Input<'_>>) -> Gil {
        if self.calls_python {
            Gil::ReleaseAlways
        } else if input.is_some_and(Input::release_gil) {
            Gil::Release
        } else {
            Gil::Keep
        }
    }

    /// Returns the core cipher, or `HandleClosedError` after `close()`.
    fn cipher(&self) -> Outcome<Cipher> {
        let guard = self
            .inner
            .read()
            .map_err(|_| Error::new(ErrorCode::Internal, "the cipher lock is poisoned"))?;
        guard.clone().ok_or_else(|| {
            Failure::Core(Error::new(
                ErrorCode::HandleClosed,
                "the cipher is closed; create a new Cipher to encrypt or decrypt",
            ))
        })
    }
}

/// Returns the body length of an envelope whose plaintext is exactly its body (no sealed
/// properties, no compression), or `None` when the length is known only after decryption
/// or the envelope does not parse (decryption then reports the error).
fn exact_body_len(envelope: &[u8]) -> Option<usize> {
    let parsed = Envelope::parse(envelope).ok()?;
    (parsed.flags & (FLAG_COMPRESSED | FLAG_SEALED_PROPERTIES) == 0)
        .then_some(parsed.ciphertext.len())
}

/// Encrypts `input` into a new `bytes` object.
fn encrypt_to_bytes<'py>(
    py: Python<'py>,
    cipher: &Cipher,
    input: &Input<'py>,
    release: Gil,
    options: &EncryptOptions<'_>,
) -> Outcome<Bound<'py, PyBytes>> {
    let body = input.as_slice();
    let config = cipher.config();
    // Without sealed properties or compression the envelope length is known up front, so
    // the core writes straight into the `bytes` object Python receives.
    let exact = options.properties.is_none()
        && (!config.compression || body.len() < config.compression_min_size);
    if exact {
        // This call may create a data key. For a short body on a cipher without a Python
        // provider that happens with the GIL held: a keyring wrap of microseconds.
        let len = release::run(py, release, || {
            cipher.encrypted_len(body.len(), options.context)
        })?;
        let mut written = None;
        let out = PyBytes::new_with(py, len, |buf| {
            written = Some(release::run(py, release, || {
                cipher.encrypt_into(body, options, buf)
            }));
            Ok(())
        })?;
        match written {
            Some(Ok(n)) if n == len => return Ok(out),
            // The data key was replaced by one whose header has another length: the
            // general path below handles it.
            Some(Ok(_)) => {}
            Some(Err(e)) if e.code() == ErrorCode::BufferTooSmall => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err(Error::new(ErrorCode::Internal, "encryption did not run").into()),
        }
    }
    let envelope = release::run(py, release, || cipher.encrypt(body, options))?;
    Ok(PyBytes::new(py, &envelope))
}

/// Decrypts `input` into a new `bytes` object and returns it with the header facts.
fn decrypt_to_bytes<'py>(
    py: Python<'py>,
    cipher: &Cipher,
    input: &Input<'py>,
    release: Gil,
    context: Option<&Attributes>,
) -> Outcome<(Bound<'py, PyBytes>, DecryptInfo)> {
    let envelope = input.as_slice();
    if let Some(len) = exact_body_len(envelope) {
        let mut result = None;
        let body = PyBytes::new_with(py, len, |buf| {
            result = Some(release::run(py, release, || {
                cipher.decrypt_into(envelope, context, buf)
            }));
            Ok(())
        })?;
        return match result {
            Some(Ok((n, info))) if n == len => Ok((body, info)),
            Some(Ok((n, _))) => Err(Error::new(
                ErrorCode::Internal,
                format!("decryption wrote {n} bytes where the envelope declares {len}"),
            )
            .into()),
            Some(Err(e)) => Err(e.into()),
            None => Err(Error::new(ErrorCode::Internal, "decryption did not run").into()),
        };
    }
    let mut decrypted = release::run(py, release, || cipher.decrypt(envelope, context))?;
    let body = PyBytes::new(py, &decrypted.body);
    decrypted.body.zeroize();
    Ok((body, decrypted.info))
}

fn non_negative_length(value: i64, name: &str) -> Outcome<usize> {
    usize::try_from(value)
        .map_err(|_| invalid_argument(format!("{name} is {value}; it must not be negative")))
}

#[pymethods]
impl PyCipher {
    /// Creates a cipher backed by the local keyring file at `keyring_path`, by
    /// `key_providers` implemented in Python, or by both.
    #[new]
    #[pyo3(signature = (
        *,
        keyring_path = None,
        key_providers = None,
        key_ids = None,
        suite = None,
        backend = None,
        max_messages_per_key = None,
        max_bytes_per_key = None,
        max_key_age = None,
        cache_capacity = None,
        cache_ttl = None,
        compression = None,
        compression_min_size = None,
        max_body_length = None,
        store_context = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        keyring_path: Option<PathBuf>,
        key_providers: Option<&Bound<'_, PyAny>>,
        key_ids: Option<&Bound<'_, PyAny>>,
        suite: Option<String>,
        backend: Option<String>,
        max_messages_per_key: Option<&Bound<'_, PyAny>>,
        max_bytes_per_key: Option<&Bound<'_, PyAny>>,
        max_key_age: Option<&Bound<'_, PyAny>>,
        cache_capacity: Option<&Bound<'_, PyAny>>,
        cache_ttl: Option<&Bound<'_, PyAny>>,
        compression: Option<bool>,
        compression_min_size: Option<&Bound<'_, PyAny>>,
        max_body_length: Option<&Bound<'_, PyAny>>,
        store_context: Option<bool>,
    ) -> Outcome<Self> {
        guard(|| {
            let keywords = Keywords {
                key_ids,
                suite,
                backend,
                max_messages_per_key,
                max_bytes_per_key,
                max_key_age,
                cache_capacity,
                cache_ttl,
                compression,
                compression_min_size,
                max_body_length,
                store_context,
            };
            let config = keywords.to_config()?;
            // The keyring claims every well-formed key id, so it comes last.
            let mut providers = python_providers(key_providers)?;
            let calls_python = !providers.is_empty();
            let mut sources: Vec<String> = providers
                .iter()
                .map(|p| format!("key provider {}", p.kind()))
                .collect();
            if let Some(path) = &keyring_path {
                providers.push(Arc::new(LocalKeyring::open(path)?));
                sources.push(format!("keyring {}", path.display()));
            }
            if providers.is_empty() {
                return Err(invalid_config(
                    "neither keyring_path nor key_providers is set; pass the keyring file or a \
                     list of key providers",
                ));
            }
            let cipher = Cipher::new(config, providers)?;
            Ok(PyCipher::open(
                py,
                cipher,
                &sources.join(", "),
                calls_python,
            ))
        })
    }

    /// Creates a cipher from a configuration file in the core's `key = value` format.
    #[staticmethod]
    #[pyo3(signature = (path, key_provider = None))]
    fn from_config_file(
        py: Python<'_>,
        path: PathBuf,
        key_provider: Option<&Bound<'_, PyAny>>,
    ) -> Outcome<Self> {
        guard(|| {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "failed to read configuration file {}: {e}; check the path and its permissions",
                        path.display()
                    ),
                )
            })?;
            from_config_text(
                py,
                &text,
                &format!("configuration file {}", path.display()),
                key_provider,
            )
        })
    }

    /// Creates a cipher from configuration text in the core's `key = value` format.
    #[staticmethod]
    #[pyo3(signature = (text, key_provider = None))]
    fn from_config(
        py: Python<'_>,
        text: String,
        key_provider: Option<&Bound<'_, PyAny>>,
    ) -> Outcome<Self> {
        guard(|| from_config_text(py, &text, "configuration text", key_provider))
    }

    /// Encrypts `body` into a new envelope.
    #[pyo3(signature = (body, context = None, sealed_properties = None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        body: Input<'py>,
        context: Option<&Bound<'py, PyAny>>,
        sealed_properties: Option<&Bound<'py, PyAny>>,
    ) -> Outcome<Bound<'py, PyBytes>> {
        guard(|| {
            let context = attrs::extract_context(context)?;
            let properties = attrs::extract(sealed_properties, "sealed_properties")?;
            let cipher = self.cipher()?;
            let options = EncryptOptions {
                context: context.as_deref(),
                properties: properties.as_ref(),
            };
            encrypt_to_bytes(py, &cipher, &body, self.gil(Some(&body)), &options)
        })
    }

    /// Decrypts an envelope and returns the body with its sealed properties and header
    /// facts.
    #[pyo3(signature = (envelope, context = None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        envelope: Input<'py>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> Outcome<PyDecrypted> {
        guard(|| {
            let context = attrs::extract_context(context)?;
            let cipher = self.cipher()?;
            let (body, info) = decrypt_to_bytes(
                py,
                &cipher,
                &envelope,
                self.gil(Some(&envelope)),
                context.as_deref(),
            )?;
            let sealed_properties = match &info.properties {
                Some(map) => attrs::to_dict(py, map)?,
                None => PyDict::new(py),
            };
            Ok(PyDecrypted {
                body: body.unbind(),
                sealed_properties: sealed_properties.unbind(),
                key_id: info.key_id,
                key_version: info.key_version,
                suite: info.suite.name().to_owned(),
                compressed: info.compressed,
            })
        })
    }

    /// Decrypts an envelope and returns only the body.
    #[pyo3(signature = (envelope, context = None))]
    fn decrypt_body<'py>(
        &self,
        py: Python<'py>,
        envelope: Input<'py>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> Outcome<Bound<'py, PyBytes>> {
        guard(|| {
            let context = attrs::extract_context(context)?;
            let cipher = self.cipher()?;
            Ok(decrypt_to_bytes(
                py,
                &cipher,
                &envelope,
                self.gil(Some(&envelope)),
                context.as_deref(),
            )?
            .0)
        })
    }

    /// Returns the exact envelope length for a body of `body_len` bytes with this
    /// context, no sealed properties and no compression, under the current data key.
    #[pyo3(signature = (body_len, context = None))]
    fn encrypted_length(
        &self,
        py: Python<'_>,
        body_len: i64,
        context: Option<&Bound<'_, PyAny>>,
    ) -> Outcome<usize> {
        guard(|| {
            let body_len = non_negative_length(body_len, "body_len")?;
            let context = attrs::extract_context(context)?;
            let cipher = self.cipher()?;
            Ok(release::run(py, self.gil(None), || {
                cipher.encrypted_len(body_len, context.as_deref())
            })?)
        })
    }

    /// Re-wraps the data key of an envelope under the current primary version of every
    /// configured key id, without decrypting the body.
    fn rewrap<'py>(&self, py: Python<'py>, envelope: Input<'py>) -> Outcome<Bound<'py, PyBytes>> {
        guard(|| {
            let cipher = self.cipher()?;
            let data = envelope.as_slice();
            let rewrapped = release::run(py, self.gil(Some(&envelope)), || cipher.rewrap(data))?;
            Ok(PyBytes::new(py, &rewrapped))
        })
    }

    /// Drops the producer's data key, so the next message gets a new one.
    fn rotate(&self, py: Python<'_>) -> Outcome<()> {
        guard(|| {
            let cipher = self.cipher()?;
            cipher.rotate();
            log::info(py, || {
                format!(
                    "mqseal data key rotated for key ids {:?}",
                    cipher.config().key_ids
                )
            });
            Ok(())
        })
    }

    /// Returns a snapshot of the operation counters as a `dict` of `int`.
    fn counters<'py>(&self, py: Python<'py>) -> Outcome<Bound<'py, PyDict>> {
        guard(|| {
            let cipher = self.cipher()?;
            let dict = PyDict::new(py);
            for (name, value) in cipher.counters().fields() {
                dict.set_item(name, value)?;
            }
            Ok(dict)
        })
    }

    /// Closes the cipher. Idempotent; see the class documentation.
    fn close(&self, py: Python<'_>) -> Outcome<()> {
        guard(|| {
            let closed = self
                .inner
                .write()
                .map_err(|_| Error::new(ErrorCode::Internal, "the cipher lock is poisoned"))?
                .take();
            if let Some(cipher) = closed {
                log::debug(py, || {
                    format!(
                        "mqseal cipher closed: key ids {:?}, counters {:?}",
                        cipher.config().key_ids,
                        cipher.counters()
                    )
                });
            }
            Ok(())
        })
    }

    /// True after `close()`.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.read().map(|c| c.is_none()).unwrap_or(true)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> Outcome<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.cipher() {
            Ok(c) => format!(
                "<mqseal.Cipher suite={:?} backend={:?} key_ids={:?}>",
                c.config().suite.name(),
                c.config().backend.name(),
                c.config().key_ids
            ),
            Err(_) => String::from("<mqseal.Cipher closed>"),
        }
    }
}

/// FOR TESTS ONLY: returns a cipher whose first data key is `dek`, wrapped as `wrapped`
/// under version `key_version` of the configured key id, so the tests can check that
/// Python encryption reproduces the shared known-answer vectors byte for byte. It only
/// generates that one data key: wrapping and unwrapping fail, so it cannot decrypt.
#[pyfunction]
#[pyo3(name = "_debug_known_answer_cipher")]
pub(crate) fn debug_known_answer_cipher(
    py: Python<'_>,
    config: &str,
    dek: Input<'_>,
    wrapped: Input<'_>,
    key_version: u32,
) -> Outcome<PyCipher> {
    guard(|| {
        let dek = DataKey::from_slice(dek.as_slice())?;
        let provider =
            CallbackProvider::known_answer(dek, wrapped.as_slice().to_vec(), key_version);
        let cipher = Settings::parse(config)?.build(Some(Arc::new(provider)))?;
        Ok(PyCipher::open(
            py,
            cipher,
            "known-answer test configuration",
            false,
        ))
    })
}

fn from_config_text(
    py: Python<'_>,
    text: &str,
    source: &str,
    key_provider: Option<&Bound<'_, PyAny>>,
) -> Outcome<PyCipher> {
    let settings = Settings::parse(text)?;
    if let Some(object) = key_provider {
        let provider: Arc<dyn KeyProvider> = Arc::new(PyKeyProvider::new(object)?);
        let source = format!("{source}, key provider {}", provider.kind());
        let cipher = settings.build(Some(provider))?;
        return Ok(PyCipher::open(py, cipher, &source, true));
    }
    let mut source = source.to_owned();
    for provider in &settings.providers {
        match provider {
            ProviderConfig::Keyring { path } => {
                source.push_str(&format!(", keyring {}", path.display()));
            }
            other => source.push_str(&format!(", {}", other.name())),
        }
    }
    let cipher = settings.build(None)?;
    Ok(PyCipher::open(py, cipher, &source, false))
}

/// Reads the `key_providers` argument: an iterable of provider objects.
fn python_providers(providers: Option<&Bound<'_, PyAny>>) -> Outcome<Vec<Arc<dyn KeyProvider>>> {
    let Some(providers) = providers else {
        return Ok(Vec::new());
    };
    if providers.is_instance_of::<PyString>() || providers.hasattr("unwrap")? {
        return Err(invalid_argument(
            "key_providers must be a list of key providers, not one provider; pass [provider]",
        ));
    }
    let mut out: Vec<Arc<dyn KeyProvider>> = Vec::new();
    for item in providers.try_iter()? {
        out.push(Arc::new(PyKeyProvider::new(&item?)?));
    }
    Ok(out)
}

#[pymethods]
impl PyDecrypted {
    fn __repr__(&self, py: Python<'_>) -> String {
        let names: Vec<String> = self
            .sealed_properties
            .bind(py)
            .keys()
            .iter()
            .map(|k| k.to_string())
            .collect();
        format!(
            "Decrypted(body=<{} bytes>, sealed_properties=<keys {:?}>, key_id={:?}, key_version={}, suite={:?}, compressed={})",
            self.body.bind(py).as_bytes().len(),
            names,
            self.key_id,
            self.key_version,
            self.suite,
            if self.compressed { "True" } else { "False" },
        )
    }
}
