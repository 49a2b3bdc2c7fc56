//! The extension's errors and the PHP exception classes they become:
//!
//! ```text
//! \RuntimeException
//!   └ RustEcho\Exception\RustEchoException
//!       ├ ServerException   the server could not start, or stop
//!       ├ ConfigException   a configuration value is unusable (the message names the key)
//!       └ PublishException  publish() was given invalid arguments
//! ```

use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ClassEntry;

/// Why a call into the extension failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtError {
    /// The server could not start or stop.
    #[error("{0}")]
    Server(String),
    /// A configuration value is unusable.
    #[error("{0}")]
    Config(String),
    /// `publish()` was called with invalid arguments.
    #[error("{0}")]
    Publish(String),
}

impl From<rust_echo_server::StartError> for ExtError {
    fn from(e: rust_echo_server::StartError) -> Self {
        match e {
            rust_echo_server::StartError::Config(c) => ExtError::Config(c.to_string()),
            other => ExtError::Server(other.to_string()),
        }
    }
}

impl From<ExtError> for PhpException {
    fn from(e: ExtError) -> Self {
        let message = e.to_string();
        match e {
            ExtError::Server(_) => PhpException::from_class::<ServerException>(message),
            ExtError::Config(_) => PhpException::from_class::<ConfigException>(message),
            ExtError::Publish(_) => PhpException::from_class::<PublishException>(message),
        }
    }
}

unsafe extern "C" {
    /// `PHPAPI zend_class_entry *spl_ce_RuntimeException` from PHP's SPL.
    static spl_ce_RuntimeException: *mut ClassEntry;
}

/// `\RuntimeException`. Looked up through SPL's own symbol because at module startup the
/// executor's class table, which name lookups use, does not exist yet.
fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: SPL is always compiled into PHP 8, and its MINIT, which sets this pointer, runs
    // before any dynamically loaded extension's; the class entry lives as long as the engine.
    unsafe { spl_ce_RuntimeException.as_ref() }
        .expect("invariant: SPL registers RuntimeException before extensions start")
}

/// Base of every exception the extension throws.
#[php_class]
#[php(name = "RustEcho\\Exception\\RustEchoException")]
#[php(extends(ce = runtime_exception, stub = "\\RuntimeException"))]
#[derive(Default)]
pub struct RustEchoException;

/// The server could not start or stop.
#[php_class]
#[php(name = "RustEcho\\Exception\\ServerException")]
#[php(extends(RustEchoException))]
#[derive(Default)]
pub struct ServerException;

/// A configuration value is unusable; the message names the key.
#[php_class]
#[php(name = "RustEcho\\Exception\\ConfigException")]
#[php(extends(RustEchoException))]
#[derive(Default)]
pub struct ConfigException;

/// `publish()` was given invalid arguments.
#[php_class]
#[php(name = "RustEcho\\Exception\\PublishException")]
#[php(extends(RustEchoException))]
#[derive(Default)]
pub struct PublishException;
