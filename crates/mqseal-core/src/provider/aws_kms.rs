//! The AWS KMS key provider: GenerateDataKey for new data keys, Encrypt for further
//! key ids and rewrap, Decrypt to unwrap.
//!
//! Requests run on a small private tokio runtime (one worker thread), so callers stay
//! synchronous. Credentials come only from the standard AWS chain; the SDK's own retries
//! are off because the cipher's resilience layer retries.
//!
//! Key ids may be a key id (UUID or `mrk-...`), an alias (`alias/orders`) or a key or
//! alias ARN. The envelope records the key ARN that KMS reports, with key version 0:
//! KMS rotates key material behind the same ARN, so an alias moved to another key shows
//! up as a new ARN. Every request carries the encryption context `mqseal = data-key-v1`,
//! so a wrapped data key cannot be decrypted through KMS without naming that purpose.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use zeroize::Zeroizing;

use super::KeyProvider;
use crate::config::AwsKmsConfig;
use crate::dek::{DataKey, WrappedKey};
use crate::error::{Error, ErrorCode, Result};
use crate::fork;

/// Key of the encryption context sent with every request.
pub const CONTEXT_KEY: &str = "mqseal";
/// Value of the encryption context sent with every request.
pub const CONTEXT_VALUE: &str = "data-key-v1";
/// Key version recorded for KMS-wrapped data keys: KMS keeps key versions internal.
pub const KMS_KEY_VERSION: u32 = 0;

/// The runtime and client of one process; rebuilt in a child after `fork()`.
struct Connection {
    fork_generation: u64,
    runtime: tokio::runtime::Runtime,
    client: Client,
}

/// The AWS KMS provider.
pub struct AwsKms {
    config: AwsKmsConfig,
    timeout: Duration,
    connection: RwLock<Arc<Connection>>,
}

impl fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKms")
            .field("config", &self.config)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl AwsKms {
    /// Connects to AWS KMS with `config` and the standard credential chain. `timeout`
    /// bounds each request, connection included (the cipher passes `retry.deadline_ms`).
    /// No request is sent here: missing credentials show on the first call.
    pub fn connect(config: &AwsKmsConfig, timeout: Duration) -> Result<AwsKms> {
        let connection = Connection::open(config, timeout)?;
        Ok(AwsKms {
            config: config.clone(),
            timeout,
            connection: RwLock::new(Arc::new(connection)),
        })
    }

    /// Returns the connection of this process, making a new one in a forked child: the
    /// parent's runtime threads and pooled sockets do not exist there.
    fn connection(&self) -> Result<Arc<Connection>> {
        let generation = fork::generation();
        let current = self
            .connection
            .read()
            .map_err(|_| Error::internal("AWS KMS connection lock poisoned"))?
            .clone();
        if current.fork_generation == generation {
            return Ok(current);
        }
        let mut slot = self
            .connection
            .write()
            .map_err(|_| Error::internal("AWS KMS connection lock poisoned"))?;
        if slot.fork_generation != generation {
            let fresh = Arc::new(Connection::open(&self.config, self.timeout)?);
            let inherited = std::mem::replace(&mut *slot, fresh);
            // Dropping the inherited runtime would wait for worker threads that only
            // exist in the parent.
            std::mem::forget(inherited);
        }
        Ok(slot.clone())
    }

    fn run<T>(&self, request: impl AsyncFnOnce(&Client) -> Result<T>) -> Result<T> {
        let connection = self.connection()?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::new(
                ErrorCode::ProviderUnavailable,
                "the AWS KMS provider was called from inside a tokio runtime, where it cannot \
                 block; call mqseal from a blocking thread (tokio::task::spawn_blocking)",
            ));
        }
        connection.runtime.block_on(request(&connection.client))
    }
}

impl Connection {
    fn open(config: &AwsKmsConfig, timeout: Duration) -> Result<Connection> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mqseal-aws-kms")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorCode::ProviderUnavailable,
                    format!("cannot start the AWS KMS provider's runtime thread: {e}"),
                )
            })?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout)
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            );
        if let Some(region) = &config.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk_config = runtime.block_on(loader.load());
        if sdk_config.region().is_none() {
            return Err(Error::config(
                "the AWS KMS provider has no region: set aws_kms.region, AWS_REGION, or a \
                 region in the AWS profile",
            ));
        }
        let client = Client::new(&sdk_config);
        Ok(Connection {
            fork_generation: fork::generation(),
            runtime,
            client,
        })
    }
}

/// Returns true for the key ids AWS KMS accepts: key and alias ARNs, aliases, key ids.
fn is_kms_key_id(key_id: &str) -> bool {
    if let Some(rest) = key_id.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID or :alias/NAME
        let mut parts = rest.splitn(5, ':');
        let (_partition, service) = (parts.next(), parts.next());
        let resource = parts.nth(2).unwrap_or("");
        return service == Some("kms")
            && (resource.starts_with("key/") || resource.starts_with("alias/"));
    }
    if let Some(name) = key_id.strip_prefix("alias/") {
        return !name.is_empty();
    }
    is_key_uuid(key_id) || is_multi_region_key_id(key_id)
}

fn is_key_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_multi_region_key_id(s: &str) -> bool {
    s.strip_prefix("mrk-")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Maps an SDK error to an mqseal error. Only KMS's error code and message, the key id
/// and transport errors reach the message: never request or response bodies.
fn map_error<E>(
    operation: &str,
    key_id: &str,
    err: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let key = format!("{key_id:?}");
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("unknown");
            // KMS messages often end in a period, and the advice follows after "; ".
            let detail = inner
                .message()
                .unwrap_or("no message")
                .trim_end_matches('.');
            let status = service.raw().status().as_u16();
            let (error_code, advice) = classify(code, status);
            Error::new(
                error_code,
                format!("AWS KMS {operation} for key {key} failed with {code}: {detail}; {advice}"),
            )
        }
        SdkError::TimeoutError(_) => Error::new(
            ErrorCode::ProviderTimeout,
            format!(
                "AWS KMS {operation} for key {key} timed out (retry.deadline_ms bounds each request)"
            ),
        ),
        SdkError::DispatchFailure(dispatch) => {
            let code = if let Some(code) = credentials_failure(&err) {
                code
            } else if dispatch.is_timeout() {
                ErrorCode::ProviderTimeout
            } else {
                ErrorCode::ProviderUnavailable
            };
            Error::new(
                code,
                format!(
                    "AWS KMS {operation} for key {key} could not be sent: {}; check aws_kms.endpoint, \
                     the network and the AWS credential chain",
                    error_chain(&err)
                ),
            )
        }
        SdkError::ConstructionFailure(_) => Error::new(
            ErrorCode::ProviderDenied,
            format!(
                "AWS KMS {operation} for key {key} could not be built: {}; check the key id and the AWS configuration",
                error_chain(&err)
            ),
        ),
        // A response that could not be read does not show the key is unusable, and its body may
        // hold key material, so it is neither quoted nor treated as final.
        _ => Error::new(
            ErrorCode::ProviderUnavailable,
            format!("AWS KMS {operation} for key {key} returned a response that could not be read"),
        ),
    }
}

/// Maximum length, in characters, of the text that `error_chain` returns.
const MAX_ERROR_CHAIN_CHARS: usize = 400;

/// Joins the Display text of `err` and its sources with ": ", skipping a source whose
/// text the previous one already contains, capped at `MAX_ERROR_CHAIN_CHARS`. The SDK's
/// Debug output is never used: it dumps connector structures and HTTP headers.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        let text = text.trim();
        let repeated = parts.last().is_some_and(|last| last.contains(text));
        if !text.is_empty() && !repeated {
            parts.push(text.to_owned());
        }
        current = e.source();
    }
    let chain = parts.join(": ");
    if chain.chars().count() <= MAX_ERROR_CHAIN_CHARS {
        return chain;
    }
    let mut capped: String = chain.chars().take(MAX_ERROR_CHAIN_CHARS).collect();
    capped.push_str("...");
    capped
}

/// Returns the code for an error caused by the AWS credential chain: permanent when the
/// chain found no credentials or is misconfigured, since a retry finds none either.
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<ErrorCode> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(credentials) = e.downcast_ref::<CredentialsError>() {
            return Some(match credentials {
                CredentialsError::CredentialsNotLoaded(_)
                | CredentialsError::InvalidConfiguration(_) => ErrorCode::ProviderDenied,
                CredentialsError::ProviderTimedOut(_) => ErrorCode::ProviderTimeout,
                _ => ErrorCode::ProviderUnavailable,
            });
        }
        current = e.source();
    }
    None
}

/// Returns the mqseal code and the advice for a KMS error code and HTTP status.
fn classify(code: &str, status: u16) -> (ErrorCode, &'static str) {
    match code {
        "ThrottlingException" | "RequestLimitExceeded" | "LimitExceededException" => (
            ErrorCode::ProviderThrottled,
            "retry later or raise the KMS request quota",
        ),
        "DependencyTimeoutException" => (ErrorCode::ProviderTimeout, "retry later"),
        "KMSInternalException"
        | "KeyUnavailableException"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException" => (ErrorCode::ProviderUnavailable, "retry later"),
        "DisabledException" => (
            ErrorCode::KeyDisabled,
            "enable the key (aws kms enable-key) to use it again",
        ),
        "KMSInvalidStateException" => (
            ErrorCode::KeyDisabled,
            "the key is pending deletion, pending import or unavailable; cancel the deletion or \
             restore the key",
        ),
        "NotFoundException" => (
            ErrorCode::KeyNotFound,
            "check the key id, alias and region (aws_kms.region)",
        ),
        "InvalidCiphertextException" | "IncorrectKeyException" => (
            ErrorCode::AuthenticationFailed,
            "the wrapped data key was modified, belongs to another key, or was not made by mqseal",
        ),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken" => (
            ErrorCode::ProviderDenied,
            "grant kms:GenerateDataKey, kms:Encrypt, kms:Decrypt and kms:DescribeKey on the key to \
             the credentials of the AWS chain",
        ),
        _ if status >= 500 => (ErrorCode::ProviderUnavailable, "retry later"),
        _ => (
            ErrorCode::ProviderDenied,
            "KMS rejected the request; check the key's policy and type (a symmetric \
             ENCRYPT_DECRYPT key is required)",
        ),
    }
}

fn data_key_from(plaintext: Option<Blob>, operation: &str, key_id: &str) -> Result<DataKey> {
    let bytes = Zeroizing::new(plaintext.map(Blob::into_inner).unwrap_or_default());
    DataKey::from_slice(&bytes).map_err(|e| {
        Error::new(
            e.code(),
            format!("AWS KMS {operation} for key {key_id:?}: {}", e.message()),
        )
    })
}

fn missing(field: &str, operation: &str, key_id: &str) -> Error {
    Error::new(
        ErrorCode::ProviderInvalidResponse,
        format!("AWS KMS {operation} for key {key_id:?} returned no {field}"),
    )
}

impl KeyProvider for AwsKms {
    fn kind(&self) -> &str {
        "aws-kms"
    }

    fn recognizes(&self, key_id: &str) -> bool {
        is_kms_key_id(key_id)
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey> {
        self.run(async |client| {
            let out = client
                .encrypt()
                .key_id(key_id)
                .plaintext(Blob::new(dek.as_bytes().to_vec()))
                .encryption_context(CONTEXT_KEY, CONTEXT_VALUE)
                .send()
                .await
                .map_err(|e| map_error("Encrypt", key_id, e))?;
            let arn = out
                .key_id
                .ok_or_else(|| missing("key id", "Encrypt", key_id))?;
            let blob = out
                .ciphertext_blob
                .ok_or_else(|| missing("ciphertext", "Encrypt", key_id))?;
            Ok(WrappedKey {
                key_id: arn,
                key_version: KMS_KEY_VERSION,
                ciphertext: blob.into_inner(),
            })
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        let key_id = wrapped.key_id.as_str();
        self.run(async |client| {
            let out = client
                .decrypt()
                .key_id(key_id)
                .ciphertext_blob(Blob::new(wrapped.ciphertext.clone()))
                .encryption_context(CONTEXT_KEY, CONTEXT_VALUE)
                .send()
                .await
                .map_err(|e| map_error("Decrypt", key_id, e))?;
            data_key_from(out.plaintext, "Decrypt", key_id)
        })
    }

    fn generate_data_key(&self, key_id: &str) -> Result<(DataKey, WrappedKey)> {
        self.run(async |client| {
            let out = client
                .generate_data_key()
                .key_id(key_id)
                .key_spec(DataKeySpec::Aes256)
                .encryption_context(CONTEXT_KEY, CONTEXT_VALUE)
                .send()
                .await
                .map_err(|e| map_error("GenerateDataKey", key_id, e))?;
            let dek = data_key_from(out.plaintext, "GenerateDataKey", key_id)?;
            let arn = out
                .key_id
                .ok_or_else(|| missing("key id", "GenerateDataKey", key_id))?;
            let blob = out
                .ciphertext_blob
                .ok_or_else(|| missing("ciphertext", "GenerateDataKey", key_id))?;
            Ok((
                dek,
                WrappedKey {
                    key_id: arn,
                    key_version: KMS_KEY_VERSION,
                    ciphertext: blob.into_inner(),
                },
            ))
        })
    }

    /// Resolves `key_id` (an alias, say) to the key ARN that wraps new data keys now.
    fn current_primary(&self, key_id: &str) -> Result<Option<(String, u32)>> {
        self.run(async |client| {
            let out = client
                .describe_key()
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| map_error("DescribeKey", key_id, e))?;
            let arn = out
                .key_metadata
                .and_then(|m| m.arn)
                .ok_or_else(|| missing("key ARN", "DescribeKey", key_id))?;
            Ok(Some((arn, KMS_KEY_VERSION)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_kms_key_ids() {
        for id in [
            "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555",
            "arn:aws-cn:kms:cn-north-1:111122223333:alias/orders",
            "alias/orders",
            "11111111-2222-3333-4444-555555555555",
            "mrk-0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_kms_key_id(id), "{id}");
        }
        for id in [
            "orders",
            "alias/",
            "pkcs11:orders",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:eu-west-1:111122223333:grant/x",
            "11111111-2222-3333-4444-55555555555g",
        ] {
            assert!(!is_kms_key_id(id), "{id}");
        }
    }

    #[test]
    fn missing_credentials_are_permanent() {
        let cases = [
            (
                CredentialsError::not_loaded("no providers in chain provided credentials"),
                ErrorCode::ProviderDenied,
            ),
            (
                CredentialsError::invalid_configuration("bad profile"),
                ErrorCode::ProviderDenied,
            ),
            (
                CredentialsError::provider_timed_out(Duration::from_secs(1)),
                ErrorCode::ProviderTimeout,
            ),
            (
                CredentialsError::provider_error("metadata service failed"),
                ErrorCode::ProviderUnavailable,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(credentials_failure(&error), Some(expected), "{error}");
        }
        let other = std::io::Error::other("connection refused");
        assert_eq!(credentials_failure(&other), None);
    }

    /// An error with a source, standing in for the SDK's nested transport errors.
    #[derive(Debug)]
    struct Nested {
        text: String,
        source: Option<Box<Nested>>,
    }

    impl fmt::Display for Nested {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.text)
        }
    }

    impl std::error::Error for Nested {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.source
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static))
        }
    }

    fn nested(texts: &[&str]) -> Nested {
        let mut error: Option<Nested> = None;
        for text in texts.iter().rev() {
            error = Some(Nested {
                text: (*text).to_owned(),
                source: error.map(Box::new),
            });
        }
        error.expect("at least one text")
    }

    #[test]
    fn error_chain_joins_sources() {
        let err = nested(&[
            "dispatch failure",
            " io error ",
            "client error (Connect)",
            "Connect",
            "tcp connect error: Connection refused (os error 111)",
            "Connection refused (os error 111)",
        ]);
        let chain = error_chain(&err);
        assert_eq!(
            chain,
            "dispatch failure: io error: client error (Connect): tcp connect error: Connection \
             refused (os error 111)"
        );
        assert!(!chain.contains("Nested"), "{chain}");
    }

    #[test]
    fn error_chain_is_capped() {
        let long = "x".repeat(3 * MAX_ERROR_CHAIN_CHARS);
        let err = nested(&["dispatch failure", &long]);
        let chain = error_chain(&err);
        assert_eq!(chain.chars().count(), MAX_ERROR_CHAIN_CHARS + 3);
        assert!(chain.starts_with("dispatch failure: x"), "{chain}");
        assert!(chain.ends_with("..."), "{chain}");
    }

    #[test]
    fn classifies_kms_error_codes() {
        let cases = [
            ("ThrottlingException", 400, ErrorCode::ProviderThrottled),
            (
                "DependencyTimeoutException",
                503,
                ErrorCode::ProviderTimeout,
            ),
            ("KMSInternalException", 500, ErrorCode::ProviderUnavailable),
            ("DisabledException", 400, ErrorCode::KeyDisabled),
            ("KMSInvalidStateException", 400, ErrorCode::KeyDisabled),
            ("NotFoundException", 400, ErrorCode::KeyNotFound),
            (
                "InvalidCiphertextException",
                400,
                ErrorCode::AuthenticationFailed,
            ),
            ("AccessDeniedException", 400, ErrorCode::ProviderDenied),
            ("SomethingNew", 503, ErrorCode::ProviderUnavailable),
            ("ValidationException", 400, ErrorCode::ProviderDenied),
        ];
        for (code, status, expected) in cases {
            assert_eq!(classify(code, status).0, expected, "{code}");
        }
    }
}
