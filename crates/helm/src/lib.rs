//! A native Helm v3 renderer: output identical to `helm template`, no Helm binary.
//!
//! Pipeline, as in Helm:
//! 1. [`loader`] reads a chart directory (honouring `.helmignore`) or `.tgz` into a
//!    [`Chart`] (metadata, templates, files, values, schema, subcharts);
//! 2. [`values`] processes dependencies (conditions, tags, aliases, `import-values`) and
//!    coalesces user values over chart defaults with `global` propagation; [`strvals`]
//!    parses `--set`;
//! 3. [`schema`] validates values against each chart's `values.schema.json`;
//! 4. [`engine`] renders every template in one `ferroflux_gotmpl` set with Sprig and
//!    Helm functions ([`functions`]) and the built-in objects ([`objects`]);
//! 5. [`manifests`] splits documents, separates hooks and sorts by kind; [`Rendered`]
//!    prints them the way `helm template` does.
//!
//! [`run_template_command`] is the CLI entry point; [`package::package`] is `helm package`.

pub mod chart;
pub mod cli;
pub mod engine;
pub mod error;
pub mod functions;
pub mod glob;
pub mod ignore;
pub mod kube;
pub mod loader;
pub mod manifests;
pub mod objects;
pub mod package;
pub mod render;
pub mod schema;
pub mod strvals;
pub mod toml;
pub mod values;
pub mod yaml;

pub use chart::Chart;
pub use cli::{TemplateArgs, run_template_command};
pub use error::Error;
pub use render::{Rendered, TemplateOptions, template};
