//! Reading the knowledge-base folder: the only IO of this crate.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::article::Article;

/// Why the knowledge base could not be loaded. Every variant names the path at fault.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// The knowledge-base folder does not exist.
    #[error("knowledge base folder {} does not exist", path.display())]
    MissingDir { path: PathBuf },
    /// The knowledge-base path exists but is not a folder.
    #[error("knowledge base path {} is not a folder", path.display())]
    NotADir { path: PathBuf },
    /// A folder could not be listed.
    #[error("cannot list knowledge base folder {}: {error}", path.display())]
    ReadDir { path: PathBuf, error: io::Error },
    /// An article could not be read.
    #[error("cannot read knowledge base article {}: {error}", path.display())]
    ReadFile { path: PathBuf, error: io::Error },
    /// An article is not UTF-8 text; `offset` is the first invalid byte.
    #[error(
        "knowledge base article {} is not valid UTF-8 (invalid byte at offset {offset})",
        path.display()
    )]
    NotUtf8 { path: PathBuf, offset: usize },
}

impl KbError {
    /// The folder or file at fault.
    pub fn path(&self) -> &Path {
        match self {
            KbError::MissingDir { path }
            | KbError::NotADir { path }
            | KbError::ReadDir { path, .. }
            | KbError::ReadFile { path, .. }
            | KbError::NotUtf8 { path, .. } => path,
        }
    }
}

/// Reads every `*.md` article under `dir`, sorted by path so that the knowledge base
/// (and ties between equally good passages) does not depend on the file system's order.
pub(crate) fn read_articles(dir: &Path) -> Result<Vec<Article>, KbError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(KbError::NotADir { path: dir.into() }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(KbError::MissingDir { path: dir.into() });
        }
        Err(error) => {
            return Err(KbError::ReadDir {
                path: dir.into(),
                error,
            });
        }
    }
    let mut files = Vec::new();
    collect_markdown(dir, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).map_err(|error| KbError::ReadFile {
                path: path.clone(),
                error,
            })?;
            let markdown = String::from_utf8(bytes).map_err(|error| KbError::NotUtf8 {
                path: path.clone(),
                offset: error.utf8_error().valid_up_to(),
            })?;
            Ok(Article {
                source: relative_name(dir, &path),
                markdown,
            })
        })
        .collect()
}

fn collect_markdown(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), KbError> {
    let read_dir_error = |error| KbError::ReadDir {
        path: dir.into(),
        error,
    };
    for entry in fs::read_dir(dir).map_err(read_dir_error)? {
        let entry = entry.map_err(read_dir_error)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(read_dir_error)?;
        if file_type.is_dir() {
            collect_markdown(&path, files)?;
        } else if file_type.is_symlink() && path.is_dir() {
            // Linked folders are not followed: a link to a parent would never end.
        } else if is_markdown(&path) {
            // Linked files are read like any other; a dangling link fails when read,
            // naming the file, rather than vanishing from the knowledge base.
            files.push(path);
        }
    }
    Ok(())
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("md"))
}

/// `dir/faq/returns.md` → `faq/returns.md`, with `/` on every platform since it shows up
/// in answer sources.
fn relative_name(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
