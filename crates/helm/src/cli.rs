//! `ferroflux helm template RELEASE CHART [flags]`: Helm's flags, values merged in
//! Helm's order (`-f` files, `--set-json`, `--set`, `--set-string`).

use std::path::Path;

use serde_json::Map;

use crate::error::Error;
use crate::render::TemplateOptions;
use crate::strvals::{Mode, merge_maps, parse_into};

/// Parsed `helm template` arguments.
#[derive(Clone, Debug, Default)]
pub struct TemplateArgs {
    /// Release name (`release-name` when only the chart is given).
    pub release_name: String,
    /// Chart directory or archive.
    pub chart: String,
    /// `-f/--values` files, in order.
    pub value_files: Vec<String>,
    /// `--set`, `--set-string`, `--set-json` in the order Helm applies them.
    pub set_json: Vec<String>,
    /// `--set`
    pub set: Vec<String>,
    /// `--set-string`
    pub set_string: Vec<String>,
    /// `-n/--namespace`
    pub namespace: Option<String>,
    /// `--kube-version`
    pub kube_version: Option<String>,
    /// `-a/--api-versions`
    pub api_versions: Vec<String>,
    /// `--include-crds`
    pub include_crds: bool,
    /// `-s/--show-only`
    pub show_only: Vec<String>,
    /// `--is-upgrade`
    pub is_upgrade: bool,
    /// `--skip-schema-validation`
    pub skip_schema_validation: bool,
}

impl TemplateArgs {
    /// Parses arguments after `template`.
    pub fn parse(args: &[String]) -> Result<TemplateArgs, Error> {
        let mut parsed = TemplateArgs::default();
        let mut positional = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with('-') => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| iter.next().cloned())
                    .ok_or_else(|| Error::Usage(format!("flag needs an argument: {flag}")))
            };
            match flag {
                "-f" | "--values" => parsed
                    .value_files
                    .extend(value()?.split(',').map(str::to_owned)),
                "--set" => parsed.set.push(value()?),
                "--set-string" => parsed.set_string.push(value()?),
                "--set-json" => parsed.set_json.push(value()?),
                "-n" | "--namespace" => parsed.namespace = Some(value()?),
                "--kube-version" => parsed.kube_version = Some(value()?),
                "-a" | "--api-versions" => parsed
                    .api_versions
                    .extend(value()?.split(',').map(str::to_owned)),
                "-s" | "--show-only" => parsed.show_only.push(value()?),
                "--include-crds" => parsed.include_crds = true,
                "--is-upgrade" => parsed.is_upgrade = true,
                "--skip-schema-validation" => parsed.skip_schema_validation = true,
                other if other.starts_with('-') && other.len() > 1 => {
                    return Err(Error::Usage(format!("unknown flag: {other}")));
                }
                _ => positional.push(arg.clone()),
            }
        }
        match positional.as_slice() {
            [chart] => {
                "release-name".clone_into(&mut parsed.release_name);
                parsed.chart.clone_from(chart);
            }
            [name, chart] => {
                parsed.release_name.clone_from(name);
                parsed.chart.clone_from(chart);
            }
            _ => return Err(Error::Usage("\"helm template\" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]".to_owned())),
        }
        Ok(parsed)
    }

    /// The user-supplied values, merged as Helm's `values.Options.MergeValues`.
    pub fn values(&self) -> Result<Map<String, serde_json::Value>, Error> {
        let mut base = Map::new();
        for file in &self.value_files {
            let data = std::fs::read(file).map_err(|e| Error::io(format!("open {file}"), e))?;
            let parsed = crate::loader::parse_values(&data, file)?;
            merge_maps(&mut base, parsed);
        }
        for (items, mode, flag) in [
            (&self.set_json, Mode::Json, "set-json"),
            (&self.set, Mode::Typed, "set"),
            (&self.set_string, Mode::String, "set-string"),
        ] {
            for item in items {
                parse_into(item, &mut base, mode)
                    .map_err(|e| Error::Values(format!("failed parsing --{flag} data: {e}")))?;
            }
        }
        Ok(base)
    }

    /// Options for [`crate::template`].
    pub fn options(&self) -> Result<TemplateOptions, Error> {
        let mut options = TemplateOptions {
            release_name: self.release_name.clone(),
            values: self.values()?,
            ..TemplateOptions::default()
        };
        if let Some(namespace) = &self.namespace {
            options.namespace.clone_from(namespace);
        }
        if let Some(version) = &self.kube_version {
            options.kube_version = crate::kube::parse_kube_version(version)
                .map_err(|e| Error::Usage(format!("invalid kube version '{version}': {e}")))?;
        }
        options.api_versions.clone_from(&self.api_versions);
        options.is_upgrade = self.is_upgrade;
        options.skip_schema_validation = self.skip_schema_validation;
        Ok(options)
    }
}

/// Runs `helm template` with `args` (everything after `template`) and returns stdout.
pub fn run_template_command(args: &[String]) -> Result<String, Error> {
    let args = TemplateArgs::parse(args)?;
    let chart = crate::loader::load(Path::new(&args.chart))?;
    let options = args.options()?;
    let rendered = crate::render::template(&chart, &options)?;
    rendered.try_output(&args.show_only, args.include_crds)
}
