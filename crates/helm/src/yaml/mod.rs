//! YAML as Helm sees it through sigs.k8s.io/yaml and go-yaml v2: reading resolves plain
//! scalars with YAML 1.1 rules (`yes` is a bool, `2024-01-01` a timestamp, `0777` octal)
//! and converts to JSON; writing marshals to JSON, re-reads the numbers, and prints in
//! go-yaml v2's block style (sorted keys, indentless sequences, 80-column folding).

mod node;
mod parse;
mod resolve;

pub use node::Node;
pub use parse::{parse_all_documents, parse_document, parse_document_head};

/// Prints `node` as `yaml.Marshal` does (with the trailing newline), through the go-yaml v2
/// emitter shared with the kustomize engine.
pub fn to_yaml_string(node: &Node) -> String {
    ferroflux_goyaml::to_yaml(&node.to_json())
}
