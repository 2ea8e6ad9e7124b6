//! The cipher: envelope encryption and decryption of message bodies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::attrs::{Attributes, Context, Properties};
use crate::buf::{ByteSink, InlineBuf};
use crate::cache::{ActiveKey, ConsumerCache, NegativeCache, ProducerSlot};
use crate::counters::{CounterSnapshot, Counters};
use crate::dek::{DataKey, DerivedKeys, WrappedKey};
use crate::envelope::{
    self, Envelope, FLAG_COMPRESSED, FLAG_CONTEXT_STORED, FLAG_SEALED_PROPERTIES, FLAGS_OFFSET,
    SEQUENCE_LEN,
};
use crate::error::{Error, ErrorCode, Result, quote_short};
use crate::fork;
use crate::limits::UsageLimits;
use crate::provider::KeyProvider;
use crate::provider::resilient::{ResilienceConfig, Resilient};
use crate::suite::{Backend, Suite, TAG_LEN};

/// Largest body the cipher accepts, so that every envelope fits a Java array: 1 GiB.
pub const MAX_BODY_LEN: usize = 1 << 30;
/// Default limit on a decrypted (and decompressed) body: 64 MiB.
pub const DEFAULT_MAX_BODY_LEN: usize = 64 << 20;
/// Default number of unwrapped data keys the consumer cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 1000;
/// Default time an unwrapped data key stays in the consumer cache: one hour.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(3600);
/// Default body size from which compression is tried, when it is enabled: 1 KiB.
pub const DEFAULT_COMPRESSION_MIN_SIZE: usize = 1024;
/// Default time between a producer's checks for a new primary KEK version: one minute.
pub const DEFAULT_ROTATION_CHECK: Duration = Duration::from_secs(60);

/// Settings of a [`Cipher`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CipherConfig {
    /// Cipher suite for new envelopes. Decryption accepts every suite.
    pub suite: Suite,
    /// Crypto backend.
    pub backend: Backend,
    /// KEK ids that wrap each new data key; the first generates it. Decryption needs
    /// any one of them. Empty for a decrypt-only cipher.
    pub key_ids: Vec<String>,
    /// Producer data-key limits.
    pub limits: UsageLimits,
    /// Consumer cache capacity, in data keys. 0 disables the cache.
    pub cache_capacity: usize,
    /// Consumer cache time to live.
    pub cache_ttl: Duration,
    /// Compress bodies (LZ4) before encryption. Off by default: compression lets message
    /// sizes reveal how compressible, and so partly what, the plaintext is.
    pub compression: bool,
    /// Smallest body that is compressed when compression is on.
    pub compression_min_size: usize,
    /// Largest body accepted for encryption and produced by decryption.
    pub max_body_len: usize,
    /// Store the context in the header, so a consumer can decrypt without supplying it.
    pub store_context: bool,
    /// Retries, circuit breaker and negative cache around every provider.
    pub resilience: ResilienceConfig,
    /// Time between a producer's checks for a new primary KEK version (a new keyring
    /// version, an alias pointing to another KMS key); zero checks only on
    /// [`Cipher::rotate`].
    pub rotation_check: Duration,
}

impl Default for CipherConfig {
    fn default() -> Self {
        CipherConfig {
            suite: Suite::Aes256Gcm,
            backend: Backend::default(),
            key_ids: Vec::new(),
            limits: UsageLimits::default(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            cache_ttl: DEFAULT_CACHE_TTL,
            compression: false,
            compression_min_size: DEFAULT_COMPRESSION_MIN_SIZE,
            max_body_len: DEFAULT_MAX_BODY_LEN,
            store_context: false,
            resilience: ResilienceConfig::default(),
            rotation_check: DEFAULT_ROTATION_CHECK,
        }
    }
}

impl CipherConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        self.limits.validate()?;
        self.resilience.validate()?;
        if self.max_body_len == 0 || self.max_body_len > MAX_BODY_LEN {
            return Err(Error::config(format!(
                "max_body_len = {} is outside 1..={MAX_BODY_LEN}",
                self.max_body_len
            )));
        }
        if self.key_ids.len() > envelope::MAX_WRAPPED_KEYS {
            return Err(Error::config(format!(
                "{} key ids are configured; at most {} are allowed",
                self.key_ids.len(),
                envelope::MAX_WRAPPED_KEYS
            )));
        }
        for id in &self.key_ids {
            if id.is_empty() || id.len() > envelope::MAX_KEY_ID_LEN {
                return Err(Error::config(format!(
                    "key id {} must be 1 to {} bytes long",
                    quote_short(id),
                    envelope::MAX_KEY_ID_LEN
                )));
            }
        }
        Ok(())
    }
}

/// Per-message options of [`Cipher::encrypt`].
#[derive(Clone, Copy, Debug, Default)]
pub struct EncryptOptions<'a> {
    /// Authenticated context, such as the logical topic. Supply it again to decrypt.
    pub context: Option<&'a Context>,
    /// Properties sealed inside the ciphertext and returned by decryption.
    pub properties: Option<&'a Properties>,
}

/// Header facts and sealed properties that [`Cipher::decrypt`] returns besides the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptInfo {
    /// Suite of the envelope.
    pub suite: Suite,
    /// Key id of the wrapped key that recovered the data key.
    pub key_id: String,
    /// Key version of that wrapped key.
    pub key_version: u32,
    /// Sealed properties, when the envelope carries them.
    pub properties: Option<Properties>,
    /// Whether the body was compressed inside the envelope.
    pub compressed: bool,
}

/// A decrypted message.
#[derive(Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext body.
    pub body: Vec<u8>,
    /// Header facts and sealed properties.
    pub info: DecryptInfo,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("body_len", &self.body.len())
            .field("info", &self.info)
            .finish()
    }
}

struct Inner {
    config: CipherConfig,
    providers: Vec<Arc<dyn KeyProvider>>,
    producer: ProducerSlot,
    consumer: ConsumerCache,
    negative: NegativeCache,
    counters: Arc<Counters>,
}

/// Encrypts and decrypts message bodies. Cheap to clone; clones share caches and
/// counters. Safe to use from many threads at once.
#[derive(Clone)]
pub struct Cipher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("suite", &self.inner.config.suite)
            .field("backend", &self.inner.config.backend)
            .field("key_ids", &self.inner.config.key_ids)
            .field(
                "providers",
                &self
                    .inner
                    .providers
                    .iter()
                    .map(|p| p.kind().to_owned())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn consumer_cache_key(suite: Suite, key_id: &str, key_version: u32, wrapped: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(6 + key_id.len() + wrapped.len());
    k.push(suite.id());
    k.push(key_id.len() as u8);
    k.extend_from_slice(key_id.as_bytes());
    k.extend_from_slice(&key_version.to_be_bytes());
    k.extend_from_slice(wrapped);
    k
}

/// Stack room for a consumer cache key, so a cache hit allocates nothing; keys of
/// KMS-wrapped data keys (a few hundred bytes) fit too.
const CACHE_KEY_STACK: usize = 512;

/// Builds the consumer cache key of a key entry on the stack when it fits.
fn cache_key_of<'b>(
    suite: Suite,
    entry: &envelope::KeyEntry<'_>,
    stack: &'b mut [u8; CACHE_KEY_STACK],
) -> std::borrow::Cow<'b, [u8]> {
    let len = 6 + entry.key_id.len() + entry.wrapped.len();
    if len > CACHE_KEY_STACK {
        return std::borrow::Cow::Owned(consumer_cache_key(
            suite,
            entry.key_id,
            entry.key_version,
            entry.wrapped,
        ));
    }
    stack[0] = suite.id();
    stack[1] = entry.key_id.len() as u8;
    let mut pos = 2;
    for part in [
        entry.key_id.as_bytes(),
        &entry.key_version.to_be_bytes(),
        entry.wrapped,
    ] {
        stack[pos..pos + part.len()].copy_from_slice(part);
        pos += part.len();
    }
    std::borrow::Cow::Borrowed(&stack[..len])
}

/// Layout of the plaintext sealed inside an envelope, computed before encryption.
struct PlaintextLayout<'a> {
    flags: u8,
    /// The plaintext when it differs from the body (sealed properties or compression).
    built: Option<Zeroizing<Vec<u8>>>,
    body: &'a [u8],
}

impl PlaintextLayout<'_> {
    fn plaintext(&self) -> &[u8] {
        self.built.as_ref().map_or(self.body, |b| b.as_slice())
    }
}

impl Cipher {
    /// Creates a cipher. Providers are consulted in order: the first that recognizes a
    /// key id wraps and unwraps for it. Each provider is wrapped in the resilience layer
    /// that `config.resilience` configures.
    pub fn new(config: CipherConfig, providers: Vec<Arc<dyn KeyProvider>>) -> Result<Cipher> {
        config.validate()?;
        if providers.is_empty() {
            return Err(Error::config(
                "no key provider is configured; configure a keyring or a KMS",
            ));
        }
        for id in &config.key_ids {
            if !providers.iter().any(|p| p.recognizes(id)) {
                return Err(Error::config(format!(
                    "no configured key provider recognizes key id {id:?}"
                )));
            }
        }
        fork::install();
        let consumer = ConsumerCache::new(config.cache_capacity, config.cache_ttl);
        let negative = NegativeCache::new(config.resilience.negative_ttl);
        let counters = Arc::new(Counters::default());
        let providers = providers
            .into_iter()
            .map(|p| {
                Arc::new(Resilient::new(
                    p,
                    config.resilience.clone(),
                    counters.clone(),
                )) as Arc<dyn KeyProvider>
            })
            .collect();
        Ok(Cipher {
            inner: Arc::new(Inner {
                config,
                providers,
                producer: ProducerSlot::default(),
                consumer,
                negative,
                counters,
            }),
        })
    }

    /// Returns the settings.
    pub fn config(&self) -> &CipherConfig {
        &self.inner.config
    }

    /// Returns a snapshot of the counters.
    pub fn counters(&self) -> CounterSnapshot {
        self.inner.counters.snapshot()
    }

    /// Returns the number of unwrapped data keys in the consumer cache.
    pub fn cached_keys(&self) -> usize {
        self.inner.consumer.len()
    }

    /// Drops the producer's data key, so the next message gets a new data key wrapped
    /// under the current primary KEK version. Providers first reload what they keep in
    /// memory (a keyring re-reads its file); a provider that fails to reload keeps its
    /// previous contents. Cached consumer keys are kept.
    pub fn rotate(&self) {
        for p in &self.inner.providers {
            // NOTE: a failed reload is not reported, because rotate returns nothing in
            // every binding; the next rotation check reloads again.
            let _ = p.refresh();
        }
        if let Some(k) = self.inner.producer.current() {
            k.retire();
        }
        self.inner.producer.clear();
    }

    /// Drops every cached data key, producer and consumer, and the negative cache.
    pub fn clear_caches(&self) {
        self.rotate();
        self.inner.consumer.clear();
        self.inner.negative.clear();
    }

    /// Asks the providers whether the primary KEK behind each configured key id changed
    /// since `key` was made, and retires `key` when one did. A provider that fails leaves
    /// the key in use: producers keep sending with a valid data key during an outage.
    fn check_rotation(&self, key: &ActiveKey) {
        for (id, made_with) in self.inner.config.key_ids.iter().zip(&key.wrapped) {
            let Ok(provider) = self.provider_for(id) else {
                continue;
            };
            if provider.refresh().is_err() {
                continue;
            }
            match provider.current_primary(id) {
                Ok(Some(now)) if &now != made_with => {
                    key.retire();
                    Counters::add(&self.inner.counters.rotations);
                    return;
                }
                _ => {}
            }
        }
    }

    fn provider_for(&self, key_id: &str) -> Result<&Arc<dyn KeyProvider>> {
        self.inner.providers.iter().find(|p| p.recognizes(key_id)).ok_or_else(|| {
            Error::new(
                ErrorCode::KeyNotFound,
                format!("no configured key provider recognizes key id {key_id:?}; add the provider that holds it"),
            )
        })
    }

    fn call_provider<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        Counters::add(&self.inner.counters.provider_calls);
        let r = f();
        if r.is_err() {
            Counters::add(&self.inner.counters.provider_failures);
        }
        r
    }

    fn create_active_key(&self) -> Result<ActiveKey> {
        let cfg = &self.inner.config;
        let Some(primary) = cfg.key_ids.first() else {
            return Err(Error::config(
                "this cipher has no key id, so it can only decrypt; configure key_id",
            ));
        };
        let provider = self.provider_for(primary)?;
        let (dek, first) = self.call_provider(|| provider.generate_data_key(primary))?;
        let mut wrapped = vec![first];
        for id in &cfg.key_ids[1..] {
            let p = self.provider_for(id)?;
            wrapped.push(self.call_provider(|| p.wrap(id, &dek))?);
        }
        let keys = Arc::new(DerivedKeys::derive(&dek, cfg.suite, cfg.backend)?);
        let prefix = envelope::write_key_prefix(cfg.suite, &wrapped)?;
        let made_with = wrapped
            .iter()
            .map(|w| (w.key_id.clone(), w.key_version))
            .collect();
        let consumer_key = consumer_cache_key(
            cfg.suite,
            &wrapped[0].key_id,
            wrapped[0].key_version,
            &wrapped[0].ciphertext,
        );
        // The same derived keys also decrypt this process's own envelopes without an unwrap.
        self.inner.consumer.insert(consumer_key, keys.clone());
        Counters::add(&self.inner.counters.data_keys_created);
        Ok(ActiveKey::new(
            keys,
            prefix,
            made_with,
            &cfg.limits,
            cfg.rotation_check,
        ))
    }

    /// Returns the producer's key with a reserved sequence number for `len` bytes.
    fn reserve(&self, len: usize) -> Result<(Arc<ActiveKey>, u32)> {
        let len64 = len as u64;
        if len64 > self.inner.config.limits.max_bytes {
            return Err(Error::new(
                ErrorCode::UsageLimitExceeded,
                format!(
                    "a message of {len} bytes exceeds limits.max_bytes = {} for one data key; raise the limit",
                    self.inner.config.limits.max_bytes
                ),
            ));
        }
        let mut first = true;
        loop {
            let current = self.inner.producer.current();
            if let Some(key) = &current
                && key.claim_rotation_check(self.inner.config.rotation_check)
            {
                self.check_rotation(key);
            }
            if let Some(key) = &current
                && let Some(seq) = key.reserve(len64)
            {
                if first {
                    Counters::add(&self.inner.counters.cache_hits);
                }
                return Ok((key.clone(), seq));
            }
            if first {
                Counters::add(&self.inner.counters.cache_misses);
                first = false;
            }
            self.inner
                .producer
                .replace(current.as_ref(), || self.create_active_key())?;
        }
    }

    fn build_plaintext<'a>(
        &self,
        body: &'a [u8],
        properties: Option<&Properties>,
    ) -> Result<PlaintextLayout<'a>> {
        let cfg = &self.inner.config;
        let mut flags = 0u8;
        let compressed = if cfg.compression && body.len() >= cfg.compression_min_size {
            let c = Zeroizing::new(lz4_flex::block::compress(body));
            (c.len() + 4 < body.len()).then_some(c)
        } else {
            None
        };
        if compressed.is_some() {
            flags |= FLAG_COMPRESSED;
        }
        let props = properties.filter(|p| !p.is_empty());
        if props.is_some() {
            flags |= FLAG_SEALED_PROPERTIES;
        }
        if flags == 0 {
            return Ok(PlaintextLayout {
                flags,
                built: None,
                body,
            });
        }
        let payload_len = compressed.as_ref().map_or(body.len(), |c| 4 + c.len());
        let props_len = props.map_or(0, |p| 4 + p.encoded_len());
        let mut out = Zeroizing::new(Vec::with_capacity(props_len + payload_len));
        if let Some(p) = props {
            out.extend_from_slice(&(p.encoded_len() as u32).to_be_bytes());
            p.encode_into(&mut out);
        }
        match &compressed {
            Some(c) => {
                out.extend_from_slice(&(body.len() as u32).to_be_bytes());
                out.extend_from_slice(c);
            }
            None => out.extend_from_slice(body),
        }
        Ok(PlaintextLayout {
            flags,
            built: Some(out),
            body,
        })
    }

    fn check_body_len(&self, len: usize) -> Result<()> {
        let max = self.inner.config.max_body_len;
        if len > max {
            return Err(Error::new(
                ErrorCode::UsageLimitExceeded,
                format!(
                    "body of {len} bytes exceeds max_body_len = {max}; raise max_body_len or send a smaller body"
                ),
            ));
        }
        Ok(())
    }

    fn context_block_len(&self, context: &[u8]) -> Result<usize> {
        if context.len() > u16::MAX as usize {
            return Err(Error::invalid(format!(
                "the encoded context is {} bytes; a stored context is limited to {} bytes",
                context.len(),
                u16::MAX
            )));
        }
        Ok(2 + context.len())
    }

    /// Returns the exact envelope length for a body of `body_len` bytes with no sealed
    /// properties, no compression and the given context, under the current data key
    /// (creating it if needed). With sealed properties add `4 + encoded length`. Fails
    /// with [`ErrorCode::UsageLimitExceeded`] when `body_len` exceeds `max_body_len`, as
    /// encryption would, so the sum cannot overflow.
    pub fn encrypted_len(&self, body_len: usize, context: Option<&Context>) -> Result<usize> {
        self.check_body_len(body_len)?;
        let ctx_block = if self.inner.config.store_context {
            let ctx = context
                .map(Attributes::encode)
                .unwrap_or_else(|| Attributes::new().encode());
            self.context_block_len(&ctx)?
        } else {
            0
        };
        let key = self.peek_key()?;
        Ok(key.prefix.len()
            + ctx_block
            + key.keys.commitment.len()
            + SEQUENCE_LEN
            + body_len
            + TAG_LEN)
    }

    fn peek_key(&self) -> Result<Arc<ActiveKey>> {
        loop {
            let current = self.inner.producer.current();
            if let Some(k) = current.clone() {
                return Ok(k);
            }
            self.inner
                .producer
                .replace(None, || self.create_active_key())?;
        }
    }

    /// Encrypts `body` into a new envelope.
    pub fn encrypt(&self, body: &[u8], options: &EncryptOptions<'_>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encrypt_to(body, options, Output::Grow(&mut out))?;
        Ok(out)
    }

    /// Encrypts `body` into `out` and returns the envelope length. Fails with
    /// [`ErrorCode::BufferTooSmall`], carrying the required size, when `out` is too short;
    /// `out` is then unchanged.
    pub fn encrypt_into(
        &self,
        body: &[u8],
        options: &EncryptOptions<'_>,
        out: &mut [u8],
    ) -> Result<usize> {
        self.encrypt_to(body, options, Output::Fixed(out))
    }

    fn encrypt_to(
        &self,
        body: &[u8],
        options: &EncryptOptions<'_>,
        out: Output<'_>,
    ) -> Result<usize> {
        self.check_body_len(body.len())?;
        // The context is encoded straight into the associated data, and separately only
        // when it is also stored in the header.
        let empty = Attributes::new();
        let context = options.context.unwrap_or(&empty);
        let stored: Option<Vec<u8>> = self.inner.config.store_context.then(|| context.encode());
        let ctx_block = match &stored {
            Some(ctx) => self.context_block_len(ctx)?,
            None => 0,
        };
        let plain = self.build_plaintext(body, options.properties)?;
        let plaintext = plain.plaintext();
        let (key, sequence) = self.reserve(plaintext.len())?;
        let mut flags = plain.flags;
        if ctx_block > 0 {
            flags |= FLAG_CONTEXT_STORED;
        }

        let header_len = key.prefix.len() + ctx_block + key.keys.commitment.len() + SEQUENCE_LEN;
        let total = header_len + plaintext.len() + TAG_LEN;
        let buf: &mut [u8] = match out {
            Output::Grow(v) => {
                v.clear();
                v.resize(total, 0);
                v.as_mut_slice()
            }
            Output::Fixed(b) => {
                if b.len() < total {
                    return Err(Error::buffer_too_small(total, b.len()));
                }
                &mut b[..total]
            }
        };

        // Header: prefix with the flag byte, optional stored context, commitment, sequence.
        let mut pos = key.prefix.len();
        buf[..pos].copy_from_slice(&key.prefix);
        buf[FLAGS_OFFSET] = flags;
        let keys_end = pos;
        if let Some(ctx) = &stored {
            buf[pos..pos + 2].copy_from_slice(&(ctx.len() as u16).to_be_bytes());
            buf[pos + 2..pos + ctx_block].copy_from_slice(ctx);
            pos += ctx_block;
        }
        buf[pos..pos + key.keys.commitment.len()].copy_from_slice(&key.keys.commitment);
        pos += key.keys.commitment.len();
        buf[pos..pos + SEQUENCE_LEN].copy_from_slice(&sequence.to_be_bytes());
        pos += SEQUENCE_LEN;
        debug_assert_eq!(pos, header_len);

        let mut aad = InlineBuf::new();
        aad.put(&buf[..=FLAGS_OFFSET]);
        aad.put(&buf[keys_end..header_len]);
        context.write_to(&mut aad);

        key.keys.aead.seal_into(
            &envelope::nonce_for(sequence),
            aad.as_slice(),
            plaintext,
            &mut buf[header_len..],
        )?;
        Counters::add(&self.inner.counters.encrypted);
        Ok(total)
    }

    /// Recovers the derived keys of an envelope from the cache or a provider.
    fn keys_for(&self, env: &Envelope<'_>) -> Result<(Arc<DerivedKeys>, usize)> {
        let mut stack = [0u8; CACHE_KEY_STACK];
        for (i, entry) in env.keys.iter().enumerate() {
            let ck = cache_key_of(env.suite, entry, &mut stack);
            if let Some(k) = self.inner.consumer.get(&ck) {
                Counters::add(&self.inner.counters.cache_hits);
                return Ok((k, i));
            }
        }
        Counters::add(&self.inner.counters.cache_misses);
        let mut first_error: Option<Error> = None;
        let mut retryable: Option<Error> = None;
        for (i, entry) in env.keys.iter().enumerate() {
            let Some(provider) = self
                .inner
                .providers
                .iter()
                .find(|p| p.recognizes(entry.key_id))
            else {
                continue;
            };
            let ck = cache_key_of(env.suite, entry, &mut stack);
            if let Some(e) = self.inner.negative.get(&ck) {
                Counters::add(&self.inner.counters.negative_cache_hits);
                first_error = first_error.or(Some(e));
                continue;
            }
            let loaded = self.inner.consumer.get_or_load(&ck, || {
                let wrapped = entry.to_wrapped_key();
                let dek = self.call_provider(|| provider.unwrap(&wrapped))?;
                let keys = DerivedKeys::derive(&dek, env.suite, self.inner.config.backend)?;
                keys.verify_commitment(env.commitment)?;
                Ok(keys)
            });
            if let Err(e) = &loaded
                && NegativeCache::applies_to(e)
            {
                self.inner.negative.insert(&ck, e);
            }
            match loaded {
                Ok((keys, _)) => return Ok((keys, i)),
                Err(e) if e.is_retryable() => retryable = retryable.or(Some(e)),
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        Err(retryable.or(first_error).unwrap_or_else(|| {
            let ids: Vec<String> = env.keys.iter().map(|k| format!("{} v{}", k.key_id, k.key_version)).collect();
            Error::new(
                ErrorCode::KeyNotFound,
                format!("no configured key provider recognizes the envelope's keys ({}); configure one that holds them", ids.join(", ")),
            )
        }))
    }

    /// Decrypts an envelope. `context` must equal the context given to encryption; when
    /// the envelope stores its context, `None` or an empty context uses the stored one.
    pub fn decrypt(&self, envelope: &[u8], context: Option<&Context>) -> Result<Decrypted> {
        let mut body = Vec::new();
        let info = self
            .decrypt_to(envelope, context, Output::Grow(&mut body))?
            .1;
        Ok(Decrypted { body, info })
    }

    /// Decrypts into `out` and returns the body length. Fails with
    /// [`ErrorCode::BufferTooSmall`] and the required size when `out` is too short. On
    /// any failure no plaintext is left in `out`.
    pub fn decrypt_into(
        &self,
        envelope: &[u8],
        context: Option<&Context>,
        out: &mut [u8],
    ) -> Result<(usize, DecryptInfo)> {
        self.decrypt_to(envelope, context, Output::Fixed(out))
    }

    /// Parses and checks an envelope and returns the largest body it can decrypt to
    /// without compression, which is its payload length. Does no cryptography.
    pub fn decrypted_len_bound(envelope: &[u8]) -> Result<usize> {
        Ok(Envelope::parse(envelope)?.ciphertext.len())
    }

    fn decrypt_to(
        &self,
        envelope: &[u8],
        context: Option<&Context>,
        out: Output<'_>,
    ) -> Result<(usize, DecryptInfo)> {
        let r = self.decrypt_inner(envelope, context, out);
        match &r {
            Ok(_) => Counters::add(&self.inner.counters.decrypted),
            Err(_) => Counters::add(&self.inner.counters.decrypt_failures),
        }
        r
    }

    fn decrypt_inner(
        &self,
        bytes: &[u8],
        context: Option<&Context>,
        out: Output<'_>,
    ) -> Result<(usize, DecryptInfo)> {
        let env = Envelope::parse(bytes)?;
        let (keys, index) = self.keys_for(&env)?;
        keys.verify_commitment(env.commitment)?;
        let mut aad = InlineBuf::new();
        env.associated_header(&mut aad);
        match (context.filter(|c| !c.is_empty()), env.stored_context) {
            (Some(c), _) => c.write_to(&mut aad),
            (None, Some(stored)) => aad.put(stored),
            (None, None) => aad.put(&[0, 0]),
        }
        let aad = aad.as_slice();
        let nonce = envelope::nonce_for(env.sequence);
        let entry = &env.keys[index];
        let mut info = DecryptInfo {
            suite: env.suite,
            key_id: entry.key_id.to_owned(),
            key_version: entry.key_version,
            properties: None,
            compressed: env.flags & FLAG_COMPRESSED != 0,
        };
        let ct_len = env.ciphertext.len();

        if env.flags & (FLAG_COMPRESSED | FLAG_SEALED_PROPERTIES) == 0 {
            // The plaintext is the body: decrypt straight into the output.
            self.check_body_len(ct_len)?;
            return match out {
                Output::Grow(v) => {
                    v.clear();
                    v.resize(ct_len, 0);
                    if let Err(e) = keys.aead.open_into(&nonce, aad, env.ciphertext, env.tag, v) {
                        v.clear();
                        return Err(e);
                    }
                    Ok((ct_len, info))
                }
                Output::Fixed(b) => {
                    if b.len() < ct_len {
                        return Err(Error::buffer_too_small(ct_len, b.len()));
                    }
                    keys.aead
                        .open_into(&nonce, aad, env.ciphertext, env.tag, &mut b[..ct_len])?;
                    Ok((ct_len, info))
                }
            };
        }

        let mut plain = Zeroizing::new(vec![0u8; ct_len]);
        keys.aead
            .open_into(&nonce, aad, env.ciphertext, env.tag, &mut plain)?;
        let mut rest: &[u8] = &plain;
        if env.flags & FLAG_SEALED_PROPERTIES != 0 {
            let len = read_u32(&mut rest, "sealed properties length")? as usize;
            if len > rest.len() {
                return Err(Error::malformed(
                    "sealed properties length exceeds the plaintext",
                ));
            }
            let (p, tail) = rest.split_at(len);
            info.properties = Some(Attributes::decode(p)?);
            rest = tail;
        }
        if env.flags & FLAG_COMPRESSED != 0 {
            let original = read_u32(&mut rest, "uncompressed length")? as usize;
            self.check_body_len(original)?;
            let write = |dst: &mut [u8]| -> Result<()> {
                match lz4_flex::block::decompress_into(rest, dst) {
                    Ok(n) if n == original => Ok(()),
                    _ => {
                        zeroize::Zeroize::zeroize(dst);
                        Err(Error::malformed(
                            "the compressed body does not decompress to its declared length",
                        ))
                    }
                }
            };
            match out {
                Output::Grow(v) => {
                    v.clear();
                    v.resize(original, 0);
                    if let Err(e) = write(v) {
                        v.clear();
                        return Err(e);
                    }
                }
                Output::Fixed(b) => {
                    if b.len() < original {
                        return Err(Error::buffer_too_small(original, b.len()));
                    }
                    write(&mut b[..original])?;
                }
            }
            Ok((original, info))
        } else {
            self.check_body_len(rest.len())?;
            match out {
                Output::Grow(v) => {
                    v.clear();
                    v.extend_from_slice(rest);
                }
                Output::Fixed(b) => {
                    if b.len() < rest.len() {
                        return Err(Error::buffer_too_small(rest.len(), b.len()));
                    }
                    b[..rest.len()].copy_from_slice(rest);
                }
            }
            Ok((rest.len(), info))
        }
    }

    /// Re-wraps the data key of an envelope under the current primary version of every
    /// configured key id, without touching the encrypted payload. The wrapped keys are
    /// outside the associated data, and the key commitment binds the data key, so the
    /// result decrypts exactly as the original did.
    pub fn rewrap(&self, envelope_bytes: &[u8]) -> Result<Vec<u8>> {
        let env = Envelope::parse(envelope_bytes)?;
        let cfg = &self.inner.config;
        if cfg.key_ids.is_empty() {
            return Err(Error::config(
                "rewrap needs at least one configured key id to wrap under",
            ));
        }
        // Recover the data key itself: the cache holds derived keys only.
        let mut dek: Option<DataKey> = None;
        let mut last_error = None;
        for entry in &env.keys {
            let Some(p) = self
                .inner
                .providers
                .iter()
                .find(|p| p.recognizes(entry.key_id))
            else {
                continue;
            };
            match self.call_provider(|| p.unwrap(&entry.to_wrapped_key())) {
                Ok(k) => {
                    DerivedKeys::derive(&k, env.suite, cfg.backend)?
                        .verify_commitment(env.commitment)?;
                    dek = Some(k);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let dek = dek.ok_or_else(|| {
            last_error.unwrap_or_else(|| {
                Error::new(
                    ErrorCode::KeyNotFound,
                    "no configured provider recognizes the envelope's key ids",
                )
            })
        })?;
        let mut wrapped: Vec<WrappedKey> = Vec::with_capacity(cfg.key_ids.len());
        for id in &cfg.key_ids {
            let p = self.provider_for(id)?;
            wrapped.push(self.call_provider(|| p.wrap(id, &dek))?);
        }
        let mut out = envelope::write_key_prefix(env.suite, &wrapped)?;
        out[FLAGS_OFFSET] = env.flags;
        out.extend_from_slice(&envelope_bytes[env.keys_end..]);
        Ok(out)
    }
}

enum Output<'a> {
    Grow(&'a mut Vec<u8>),
    Fixed(&'a mut [u8]),
}

fn read_u32(rest: &mut &[u8], field: &str) -> Result<u32> {
    if rest.len() < 4 {
        return Err(Error::malformed(format!(
            "the decrypted payload ends inside the {field} field"
        )));
    }
    let v = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    *rest = &rest[4..];
    Ok(v)
}
