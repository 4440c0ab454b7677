//! A loaded plugin instance: what it is, where it came from, and its health. Cheap to
//! clone (an `Arc`), so the matcher pipeline, the webhook routes and the admin API can
//! each hold one. The calls themselves are in `call.rs`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Kind;
use crate::call::Entry;
use crate::health::{Health, Tracker};

#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) crate_name: String,
    pub(crate) sdk_version: String,
    pub(crate) abi_version: u32,
    pub(crate) path: PathBuf,
    pub(crate) entry: Entry,
    pub(crate) health: Tracker,
}

impl Plugin {
    pub(crate) fn new(inner: Inner) -> Plugin {
        Plugin {
            inner: Arc::new(inner),
        }
    }

    /// The config entry's name (unique among loaded plugins).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The plugin crate's own name, from its vtable.
    pub fn crate_name(&self) -> &str {
        &self.inner.crate_name
    }

    /// The `baton-plugin-sdk` version the plugin was built with.
    pub fn sdk_version(&self) -> &str {
        &self.inner.sdk_version
    }

    pub fn abi_version(&self) -> u32 {
        self.inner.abi_version
    }

    /// The library file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn health(&self) -> Health {
        self.inner.health.snapshot()
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.name)
            .field("kind", &self.inner.kind)
            .field("crate_name", &self.inner.crate_name)
            .field("sdk_version", &self.inner.sdk_version)
            .field("abi_version", &self.inner.abi_version)
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}
