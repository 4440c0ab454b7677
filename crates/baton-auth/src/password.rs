//! Passwords: argon2id PHC strings, hashed and verified on the blocking pool so that a
//! burst of sign-ins never stalls the async workers that serve everything else.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: hashing cost must not be the client's to choose.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// argon2id with 46 MiB and 2 passes (OWASP lists 46 MiB with one pass as a floor):
/// about 105 ms per verification on the 2-core machines Baton is built on, inside the
/// 50–250 ms band (measured by `cargo bench -p baton-auth`; 19 MiB with 2 passes took
/// 29 ms there, too cheap).
pub const COST: Cost = Cost {
    memory_kib: 46 * 1024,
    passes: 2,
    lanes: 1,
};

/// At most this many hashes at once: each holds `COST.memory_kib` for its duration, and
/// a burst of sign-ins must not take the machine's memory (or every blocking thread)
/// with it. Past it, sign-ins wait their turn.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// argon2 parameters; [`COST`] in production, smaller ones in tests of other things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Checks the length rules before any hashing.
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(PasswordError::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

fn hasher(cost: Cost) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `password` under `cost`, with a fresh random salt. Blocking: call
/// it through [`hash`] from async code.
pub fn hash_blocking(password: &str, cost: Cost) -> Result<String, PasswordError> {
    check_new(password)?;
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    hasher(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map(|phc| phc.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (its own parameters apply). A
/// malformed PHC string matches nothing.
pub fn verify_blocking(phc: &str, password: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(error) => {
            tracing::error!(%error, "a stored password hash does not parse");
            false
        }
    }
}

/// A hash nobody's password matches, verified when the email is unknown so that an
/// unknown account costs what a known one does (no account discovery by timing).
fn decoy(cost: Cost) -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_blocking("decoy password, never set for anyone", cost).unwrap_or_default()
    })
}

/// [`hash_blocking`] on the blocking pool.
pub async fn hash(password: String, cost: Cost) -> Result<String, PasswordError> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_blocking(&password, cost))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// [`verify_blocking`] on the blocking pool; with no stored hash, a decoy is verified so
/// the answer takes as long.
pub async fn verify(phc: Option<String>, password: String, cost: Cost) -> bool {
    let Ok(_permit) = permits().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_blocking(&phc, &password),
        None => {
            let _ = verify_blocking(decoy(cost), &password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Cost = Cost {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash_blocking("correct horse battery", CHEAP).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(verify_blocking(&phc, "correct horse battery"));
        assert!(!verify_blocking(&phc, "correct horse batterY"));
        assert!(!verify_blocking(
            "not a phc string",
            "correct horse battery"
        ));
    }

    #[test]
    fn lengths_are_checked_before_hashing() {
        assert!(matches!(
            hash_blocking("short", CHEAP),
            Err(PasswordError::TooShort)
        ));
        assert!(matches!(
            hash_blocking(&"x".repeat(MAX_PASSWORD_CHARS + 1), CHEAP),
            Err(PasswordError::TooLong)
        ));
    }

    #[tokio::test]
    async fn an_unknown_account_verifies_a_decoy() {
        assert!(!verify(None, "whatever password".into(), CHEAP).await);
    }
}
