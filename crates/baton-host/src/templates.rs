//! Workflow templates shipped as data: every `*.json` or `*.toml` file of `workflows.dir`
//! is a workflow definition offered as a template, its file name (without extension) the
//! template id. A file that does not parse stops the start, naming the file.

use std::path::Path;

use anyhow::Context;
use baton_workflows::Definition;
use figment::Figment;
use figment::providers::{Format, Json, Toml};

#[derive(Debug, Clone)]
pub struct FileTemplate {
    pub id: String,
    pub definition: Definition,
}

pub fn load(dir: &Path) -> anyhow::Result<Vec<FileTemplate>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "toml")
            )
        })
        .collect();
    paths.sort();
    let mut templates = Vec::with_capacity(paths.len());
    for path in paths {
        let figment = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Figment::from(Toml::file_exact(&path)),
            _ => Figment::from(Json::file_exact(&path)),
        };
        let definition: Definition = figment
            .extract()
            .with_context(|| format!("workflow template {} is not a definition", path.display()))?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        templates.push(FileTemplate { id, definition });
    }
    Ok(templates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_templates_are_valid_definitions() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/workflows");
        let templates = load(&dir).unwrap();
        assert!(!templates.is_empty(), "config/workflows ships templates");
        for t in templates {
            assert!(t.definition.is_ticket_based(), "{}", t.id);
            t.definition
                .validate(&baton_workflows::Directory::default())
                .unwrap_or_else(|e| panic!("{}: {e}", t.id));
        }
    }

    #[test]
    fn json_and_toml_files_load_and_a_bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"name": "J", "object": "ticket", "enrollment": "ticket_created_by_handoff",
                      "actions": [{"type": "set_priority", "priority": "high"}]}"#;
        std::fs::write(dir.path().join("a.json"), json).unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            "name = \"T\"\nobject = \"ticket\"\nenrollment = \"ticket_created_by_handoff\"\nactions = []\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let ids: Vec<String> = load(dir.path())
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
        std::fs::write(dir.path().join("c.json"), "{\"name\": 1}").unwrap();
        let error = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(error.contains("c.json"), "{error}");
        assert!(load(&dir.path().join("missing")).unwrap().is_empty());
    }
}

/// A template offered to users: built in, or a file of `workflows.dir`.
#[derive(Debug, Clone)]
pub struct Offered {
    pub id: String,
    pub name: String,
    pub description: String,
    pub definition: Definition,
}

/// Every template offered, built-in ones first: what the API and the console list.
pub fn catalogue(files: &[FileTemplate]) -> Vec<Offered> {
    let built_in = baton_workflows::TEMPLATES.iter().filter_map(|t| {
        baton_workflows::template(t.id).map(|definition| Offered {
            id: t.id.into(),
            name: t.name.into(),
            description: t.description.into(),
            definition,
        })
    });
    let shipped = files.iter().map(|t| Offered {
        id: t.id.clone(),
        name: t.definition.name.clone(),
        description: format!("from {}", t.id),
        definition: t.definition.clone(),
    });
    built_in.chain(shipped).collect()
}
