//! The TOML config file: every long option of every command can be set there, under its
//! long name (`db = "postgres://..."`, `crash-dir = "/var/crash"`). Precedence: a flag on
//! the command line, then its `CRASHSIFT_*` environment variable, then the file, then
//! the default shown in `--help`.
//!
//! The file is applied by re-parsing: for each option of the chosen command that was
//! left at its default, the file's value is appended as `--name value`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

/// Keys that must never come from the config file: secrets live in the environment or
/// in a file of their own.
const SECRET_KEYS: &[&str] = &["jira-token", "token", "password", "api-token"];

/// Reads a config file into `key -> value(s)`.
pub fn load(path: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if SECRET_KEYS.contains(&key.as_str()) {
            bail!(
                "config file {}: {key} is a secret; set it through the environment instead",
                path.display()
            );
        }
        let values = match value {
            toml::Value::String(s) => vec![s],
            toml::Value::Integer(i) => vec![i.to_string()],
            toml::Value::Float(f) => vec![f.to_string()],
            toml::Value::Boolean(b) => vec![b.to_string()],
            toml::Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s),
                    other => Ok(other.to_string()),
                })
                .collect::<Result<Vec<_>>>()?,
            toml::Value::Table(_) | toml::Value::Datetime(_) => {
                bail!(
                    "config file {}: {key} must be a string, number, boolean or list",
                    path.display()
                )
            }
        };
        out.insert(key, values);
    }
    Ok(out)
}

/// Re-parses `args` with the file's values filled in for options left at their default.
/// Unknown keys are reported once as a warning (they may belong to another command).
pub fn apply(
    command: Command,
    args: Vec<std::ffi::OsString>,
    matches: &ArgMatches,
    file: &BTreeMap<String, Vec<String>>,
) -> Result<ArgMatches> {
    // Walk to the deepest subcommand: the file applies to its options.
    let mut cmd = command.clone();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        let Some(next) = cmd.find_subcommand(name).cloned() else {
            break;
        };
        cmd = next;
        m = sub;
    }
    let mut extra: Vec<std::ffi::OsString> = Vec::new();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let Some(values) = file.get(long) else {
            continue;
        };
        let id = arg.get_id().as_str();
        let from_user = matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable)
        );
        if from_user {
            continue;
        }
        let takes_value = arg.get_action().takes_values();
        if takes_value {
            for v in values {
                extra.push(format!("--{long}").into());
                extra.push(v.into());
            }
        } else if values.iter().any(|v| v == "true") {
            extra.push(format!("--{long}").into());
        }
    }
    if extra.is_empty() {
        return Ok(matches.clone());
    }
    // Options must come before positional arguments that take the rest; append after a
    // position where the subcommand's options are accepted: the end, unless a `--` is
    // present.
    let mut full = args;
    match full.iter().position(|a| a == "--") {
        Some(i) => {
            let tail = full.split_off(i);
            full.extend(extra);
            full.extend(tail);
        }
        None => full.extend(extra),
    }
    command
        .try_get_matches_from(full)
        .context("applying the config file's values")
}
